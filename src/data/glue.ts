/**
 * GLUE readers for the standard TSV layout: one folder per task (CoLA, SST-2, MRPC, QQP, STS-B,
 * MNLI, QNLI, RTE, WNLI) holding `train.tsv`, `dev.tsv` (MNLI: `dev_matched.tsv`,
 * `dev_mismatched.tsv`) and `test.tsv` (MNLI: `test_matched.tsv`).
 *
 * The files are not quoted: a row is split on tabs only, and a quote character is text. CoLA's
 * train and dev files have no header (source, label, original judgement, sentence); every other
 * file names its columns in a header row, and columns are found by those names. Test files carry
 * no label column: their examples get label −1.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { isKnown } from '../io/lookup.js';

export type Problem = 'single_label_classification' | 'regression';

export interface TextExample {
  textA: string;
  textB?: string;
  /** Class id into `labels`, the score for regression, −1 where the file has no label. */
  label: number;
}

export interface TextDataset {
  examples: TextExample[];
  /** Class names by id; null for regression (and for unlabelled files of unknown classes). */
  labels: string[] | null;
  problem: Problem;
  /** Malformed rows skipped (onBadRow 'skip'). */
  skipped: number;
}

export interface ReadOptions {
  /** A malformed row is skipped with a warning (default) or throws. */
  onBadRow?: 'skip' | 'fail';
  /** Receives `file:line: what is wrong` for each skipped row; console.warn by default. */
  onWarning?: (message: string) => void;
}

export type GlueTaskName = 'cola' | 'sst2' | 'mrpc' | 'qqp' | 'stsb' | 'mnli' | 'qnli' | 'rte' | 'wnli';
export type GlueSplit = 'train' | 'dev' | 'dev_matched' | 'dev_mismatched' | 'test';
export type GlueMetricName = 'accuracy' | 'f1' | 'matthews_correlation' | 'pearson' | 'spearmanr';

export interface GlueTask {
  /** Folder name in the GLUE download. */
  folder: string;
  /** Column names by position for files without a header row (CoLA); null where there is a header. */
  positional: readonly string[] | null;
  textA: string;
  textB: string | null;
  label: string;
  /** Label strings in id order; null for regression (STS-B, a float score). */
  labels: readonly string[] | null;
  metrics: readonly GlueMetricName[];
}

const BINARY = ['0', '1'] as const;
const ENTAILMENT = ['entailment', 'not_entailment'] as const;

export const GLUE_TASKS: { readonly [K in GlueTaskName]: GlueTask } = {
  cola: {
    folder: 'CoLA',
    positional: ['source', 'label', 'original_judgement', 'sentence'],
    textA: 'sentence',
    textB: null,
    label: 'label',
    labels: BINARY,
    metrics: ['matthews_correlation'],
  },
  sst2: { folder: 'SST-2', positional: null, textA: 'sentence', textB: null, label: 'label', labels: BINARY, metrics: ['accuracy'] },
  mrpc: {
    folder: 'MRPC',
    positional: null,
    textA: '#1 String',
    textB: '#2 String',
    label: 'Quality',
    labels: BINARY,
    metrics: ['accuracy', 'f1'],
  },
  qqp: {
    folder: 'QQP',
    positional: null,
    textA: 'question1',
    textB: 'question2',
    label: 'is_duplicate',
    labels: BINARY,
    metrics: ['accuracy', 'f1'],
  },
  stsb: {
    folder: 'STS-B',
    positional: null,
    textA: 'sentence1',
    textB: 'sentence2',
    label: 'score',
    labels: null,
    metrics: ['pearson', 'spearmanr'],
  },
  mnli: {
    folder: 'MNLI',
    positional: null,
    textA: 'sentence1',
    textB: 'sentence2',
    label: 'gold_label',
    labels: ['contradiction', 'entailment', 'neutral'],
    metrics: ['accuracy'],
  },
  qnli: { folder: 'QNLI', positional: null, textA: 'question', textB: 'sentence', label: 'label', labels: ENTAILMENT, metrics: ['accuracy'] },
  rte: { folder: 'RTE', positional: null, textA: 'sentence1', textB: 'sentence2', label: 'label', labels: ENTAILMENT, metrics: ['accuracy'] },
  wnli: { folder: 'WNLI', positional: null, textA: 'sentence1', textB: 'sentence2', label: 'label', labels: BINARY, metrics: ['accuracy'] },
};

export const GLUE_TASK_NAMES = Object.keys(GLUE_TASKS) as GlueTaskName[];

/** 'SST-2', 'sst2', 'STS_B', 'CoLA' … → the key in GLUE_TASKS. */
export function glueTaskName(task: string): GlueTaskName {
  const key = task.toLowerCase().replace(/[-_\s]/g, '');
  if (!isKnown(GLUE_TASKS, key)) throw new Error(`unknown GLUE task '${task}' (expected one of ${GLUE_TASK_NAMES.join(', ')})`);
  return key;
}

/** The file name of a split: MNLI's dev is dev_matched, its test test_matched. */
export function glueFileName(task: GlueTaskName, split: GlueSplit): string {
  if (task === 'mnli') {
    if (split === 'dev') return 'dev_matched.tsv';
    if (split === 'test') return 'test_matched.tsv';
    return `${split}.tsv`;
  }
  if (split === 'dev_matched' || split === 'dev_mismatched') {
    throw new Error(`split '${split}' exists only for MNLI; ${GLUE_TASKS[task].folder} has train, dev, test`);
  }
  return `${split}.tsv`;
}

/** Counts malformed rows; throws on the first one under onBadRow 'fail'. */
export interface BadRows {
  report(file: string, line: number, what: string): void;
  readonly skipped: number;
}

export function badRows(options: ReadOptions = {}): BadRows {
  const warn = options.onWarning ?? ((m: string) => console.warn(m));
  let skipped = 0;
  return {
    report(file, line, what) {
      const message = `${file}:${line}: ${what}`;
      if (options.onBadRow === 'fail') throw new Error(message);
      skipped++;
      warn(`${message} (row skipped)`);
    },
    get skipped() {
      return skipped;
    },
  };
}

/** The error for a data file that yields nothing: named here, not later by whatever first needs a row. */
export function noUsableRows(file: string, skipped: number, none = 'the file has no data rows'): Error {
  return new Error(`${file}: no usable rows (${skipped > 0 ? `${skipped} malformed row${skipped === 1 ? '' : 's'} skipped` : none})`);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** `<dir>/<Folder>/<file>`, or `<dir>/<file>` when dir is already the task's folder. */
async function locate(dir: string, task: GlueTaskName, file: string): Promise<string> {
  const { folder } = GLUE_TASKS[task];
  const candidates = [join(dir, folder, file), join(dir, task, file), join(dir, file)];
  for (const c of candidates) if (await isFile(c)) return c;
  throw new Error(
    `GLUE file not found: ${candidates[0]}\n` +
      `expected the GLUE layout: <dir>/${folder}/{train,dev,test}.tsv, one folder per task ` +
      `(CoLA, SST-2, MRPC, QQP, STS-B, MNLI, QNLI, RTE, WNLI; MNLI with dev_matched.tsv and dev_mismatched.tsv)`,
  );
}

/** Beyond float32's range a score becomes Infinity in a tensor, and every loss after it NaN. */
const MAX_SCORE = 3.4e38;

/** Parses a label cell into a class id or a score, or says what is wrong with it. */
function parseLabel(spec: GlueTask, cell: string): number | string {
  if (spec.labels === null) {
    const v = cell.trim() === '' ? NaN : Number(cell);
    if (!Number.isFinite(v)) return `score '${cell}' is not a number`;
    return Math.abs(v) <= MAX_SCORE ? v : `score '${cell}' is out of range (a 32-bit float holds at most ±${MAX_SCORE})`;
  }
  const id = spec.labels.indexOf(cell.trim());
  return id >= 0 ? id : `unknown label '${cell}' (expected one of ${spec.labels.join(', ')})`;
}

/** Reads one split of one GLUE task from the GLUE root `dir` (or from the task's folder itself). */
export async function readGlue(dir: string, task: string, split: GlueSplit, options: ReadOptions = {}): Promise<TextDataset> {
  const name = glueTaskName(task);
  const spec = GLUE_TASKS[name];
  const path = await locate(dir, name, glueFileName(name, split));
  const bad = badRows(options);
  const examples: TextExample[] = [];

  let width = 0; // columns a row must have; 0 until the header (or CoLA's positional names) is known
  let at = { a: -1, b: -1, label: -1 };
  const resolveColumns = (names: readonly string[]) => {
    width = names.length;
    const index = (col: string | null) => (col === null ? -1 : names.indexOf(col));
    at = { a: index(spec.textA), b: index(spec.textB), label: index(spec.label) };
    const missing = [spec.textA, spec.textB].filter((c, i) => c !== null && (i === 0 ? at.a : at.b) < 0);
    if (split !== 'test' && at.label < 0) missing.push(spec.label);
    if (missing.length > 0) {
      throw new Error(`${path}:1: header lacks column(s) ${missing.map((c) => `'${c}'`).join(', ')}; found ${names.join(', ')}`);
    }
  };

  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '') continue;
    const cells = line.split('\t');
    if (width === 0) {
      // CoLA's test file has a header (index, sentence) although its train and dev files do not.
      if (spec.positional && cells[0] !== 'index') resolveColumns(spec.positional);
      else {
        resolveColumns(cells);
        continue;
      }
    }
    if (cells.length !== width) {
      bad.report(path, lineNo, `expected ${width} tab-separated columns, found ${cells.length}`);
      continue;
    }
    let label = -1;
    if (at.label >= 0) {
      const parsed = parseLabel(spec, cells[at.label]);
      if (typeof parsed === 'string') {
        bad.report(path, lineNo, parsed);
        continue;
      }
      label = parsed;
    }
    const example: TextExample = { textA: cells[at.a], label };
    if (at.b >= 0) example.textB = cells[at.b];
    examples.push(example);
  }
  if (width === 0) throw new Error(`${path}: empty file (expected a GLUE ${spec.folder} TSV)`);
  if (examples.length === 0) throw noUsableRows(path, bad.skipped, 'the file has a header but no data rows');

  return {
    examples,
    labels: spec.labels ? [...spec.labels] : null,
    problem: spec.labels ? 'single_label_classification' : 'regression',
    skipped: bad.skipped,
  };
}
