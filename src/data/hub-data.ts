/**
 * The paper's text datasets by Hub id (`hf:nyu-mll/glue`, `hf:stanfordnlp/imdb`): one split's
 * parquet files from the Hub's cache (io/hub/dataset-files.ts), read with hyparquet and mapped to the
 * rows the GLUE and IMDB folder readers give, so that training and evaluation cannot tell them apart.
 */
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { datasetSplitFiles, type HubFileOptions } from '../io/hub/index.js';
import { badRows, GLUE_TASKS, glueTaskName, noUsableRows, type GlueSplit, type GlueTaskName, type ReadOptions, type TextDataset, type TextExample } from './glue.js';
import { IMDB_LABELS } from './imdb.js';

/** How a GLUE config names its columns on the Hub, and its class names in the Hub's id order where they differ from the TSV reader's. */
interface HubGlueColumns {
  a: string;
  b?: string;
  classes?: readonly string[];
}

const PAIR = { a: 'sentence1', b: 'sentence2' };
const HUB_GLUE: Record<GlueTaskName, HubGlueColumns> = {
  cola: { a: 'sentence' },
  sst2: { a: 'sentence' },
  mrpc: PAIR,
  qqp: { a: 'question1', b: 'question2' },
  stsb: PAIR,
  // The TSV reader sorts MNLI's names (contradiction, entailment, neutral); the Hub numbers them otherwise.
  mnli: { a: 'premise', b: 'hypothesis', classes: ['entailment', 'neutral', 'contradiction'] },
  qnli: { a: 'question', b: 'sentence' },
  rte: PAIR,
  wnli: PAIR,
};

/** The reader's split → the Hub's: dev is validation (MNLI: validation_matched), MNLI's test is test_matched. */
function hubSplit(task: GlueTaskName, split: GlueSplit): string {
  if (split === 'dev_matched' || split === 'dev_mismatched') {
    if (task !== 'mnli') throw new Error(`split '${split}' exists only for MNLI`);
    return split.replace('dev', 'validation');
  }
  if (split === 'dev') return task === 'mnli' ? 'validation_matched' : 'validation';
  return split === 'test' && task === 'mnli' ? 'test_matched' : split;
}

type Row = Record<string, unknown>;

async function readSplit(repo: string, config: string, split: string, columns: string[], hub: HubFileOptions): Promise<{ rows: Row[]; where: string }> {
  const rows: Row[] = [];
  for (const path of await datasetSplitFiles(repo, config, split, hub)) {
    const file = await asyncBufferFromFile(path);
    let part: Row[];
    try {
      part = await parquetReadObjects({ file, compressors, columns });
    } catch (e) {
      throw new Error(`${path} (${config}/${split} of dataset ${repo}): not a readable parquet file: ${(e as Error).message}`);
    }
    rows.push(...part);
  }
  return { rows, where: `${config}/${split} of dataset ${repo}` };
}

/** A row's label: parquet integers may come as bigint. */
const toNumber = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : NaN);

/** STS-B's scores are float32 on the Hub: the shortest decimal that is that float32 (1.2, not 1.2000000476837158), as the TSV has it. */
function shortestFloat32(v: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const d = Number(v.toPrecision(digits));
    if (Math.fround(d) === v) return d;
  }
  return v;
}

/** The reader's class id for the Hub's: −1 (the test splits' hidden labels) stays; classes are mapped by name where the numbering differs. */
function classId(labels: readonly string[], cols: HubGlueColumns, raw: number): number | undefined {
  if (raw === -1) return -1;
  if (!Number.isInteger(raw) || raw < 0) return undefined;
  const id = cols.classes ? labels.indexOf(cols.classes[raw] ?? '') : raw < labels.length ? raw : -1;
  return id >= 0 ? id : undefined;
}

/** One split of GLUE task `task` from the Hub dataset `repo` (nyu-mll/glue), as readGlue gives it. */
export async function readHubGlue(repo: string, task: string, split: GlueSplit, options: ReadOptions = {}, hub: HubFileOptions = {}): Promise<TextDataset> {
  const name = glueTaskName(task);
  const spec = GLUE_TASKS[name];
  const cols = HUB_GLUE[name];
  const { rows, where } = await readSplit(repo, name, hubSplit(name, split), [cols.a, ...(cols.b ? [cols.b] : []), 'label'], hub);
  const bad = badRows(options);
  const examples: TextExample[] = [];
  rows.forEach((row, i) => {
    const [a, b, raw] = [row[cols.a], cols.b ? row[cols.b] : undefined, toNumber(row.label)];
    if (typeof a !== 'string' || (cols.b && typeof b !== 'string')) return bad.report(where, i + 1, `'${cols.a}'${cols.b ? ` or '${cols.b}'` : ''} is missing or not text`);
    const label = spec.labels ? classId(spec.labels, cols, raw) : Number.isFinite(raw) ? shortestFloat32(raw) : undefined;
    if (label === undefined) return bad.report(where, i + 1, `label ${String(row.label)} is not one of ${spec.folder}'s`);
    examples.push({ textA: a, ...(cols.b && { textB: b as string }), label });
  });
  if (examples.length === 0) throw noUsableRows(where, bad.skipped);
  return { examples, labels: spec.labels ? [...spec.labels] : null, problem: spec.labels ? 'single_label_classification' : 'regression', skipped: bad.skipped };
}

/** One split of IMDB from the Hub dataset `repo` (stanfordnlp/imdb, config plain_text: text, label 0 neg / 1 pos), as readImdb gives it. */
export async function readHubImdb(repo: string, split: 'train' | 'test', options: ReadOptions = {}, hub: HubFileOptions = {}): Promise<TextDataset> {
  const { rows, where } = await readSplit(repo, 'plain_text', split, ['text', 'label'], hub);
  const bad = badRows(options);
  const examples: TextExample[] = [];
  rows.forEach((row, i) => {
    const label = toNumber(row.label);
    if (typeof row.text !== 'string' || row.text.trim() === '') return bad.report(where, i + 1, 'empty review');
    if (label !== 0 && label !== 1) return bad.report(where, i + 1, `label ${String(row.label)} is neither 0 (neg) nor 1 (pos)`);
    // As readImdb: the reviews' HTML line breaks become newlines.
    examples.push({ textA: row.text.replace(/<br\s*\/?>/gi, '\n'), label });
  });
  if (examples.length === 0) throw noUsableRows(where, bad.skipped);
  return { examples, labels: [...IMDB_LABELS], problem: 'single_label_classification', skipped: bad.skipped };
}
