/**
 * The five Long Range Arena tasks' data (Node: files): each task's paper settings (lra-settings.ts) with
 * its loader — read from LRA's files, or generated (ListOps, Pathfinder) when no folder is given.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';
import { lookup } from '../io/lookup.js';
import { makeDir } from '../io/make-dir.js';
import { readImageFolder } from './images.js';
import { generateListOps, LISTOPS_GENERATOR, LISTOPS_VOCAB, listOpsTokens, readListOps, withoutBrackets, writeListOpsTsv, type ListOpsExample } from './listops.js';
import { readAan, readImdbBytes } from './lra-bytes.js';
import { AAN_FILES, generatedSizes, LRA_SETTINGS, type LraSettings, type LraTaskName } from './lra-settings.js';
import { generatePathfinder, readPathfinder } from './pathfinder.js';
import type { TokenExample } from './synthetic.js';

export type Splits = Record<'train' | 'val' | 'test', TokenExample[]>;

/** Progress of long generation: given what is being made and how many, a function told how many are done. */
export type CountProgress = (label: string, total: number) => (done: number) => void;

export interface LoadOptions {
  data?: string;
  length: number;
  /** Limits on the examples used (generated tasks: how many to generate). */
  trainSize?: number;
  evalSize?: number;
  seed: number;
  /** Run folder: generated data is written under it, in the official layout. */
  out: string;
  /** Only the test split is wanted (`eval`): tasks whose splits are separate files leave train and val empty. */
  testOnly?: boolean;
  /** Told of generation's progress (the CLI draws a bar); silent when absent. */
  progress?: CountProgress;
  /** ListOps: the expressions without their closing brackets (see withoutBrackets). */
  dropBrackets?: boolean;
  /** A resumed run: data generated earlier in its folder is kept as it is (whichever generator made it). */
  resume?: boolean;
}

export interface LraTask extends LraSettings {
  load(o: LoadOptions): Promise<Splits>;
}

/** The last tenth of a training set held out for validation (LRA's split for Image), then sizes applied. */
function holdOut(train: TokenExample[], test: TokenExample[], o: LoadOptions): Splits {
  const cut = Math.floor(train.length * 0.9);
  return limit({ train: train.slice(0, cut), val: train.slice(cut), test }, o);
}

function limit(s: Splits, o: LoadOptions): Splits {
  const fit = (xs: TokenExample[], n?: number) => xs.slice(0, n ?? xs.length).map((e) => ({
    ...e, inputIds: e.inputIds.slice(0, o.length), ...(e.inputIds2 && { inputIds2: e.inputIds2.slice(0, o.length) }),
  }));
  return { train: fit(s.train, o.trainSize), val: fit(s.val, o.evalSize), test: fit(s.test, o.evalSize) };
}

function need(o: LoadOptions, task: string, what: string): string {
  if (!o.data) throw new Error(`lra --task ${task} needs --data: ${what}`);
  return o.data;
}

/**
 * ListOps splits drawn with consecutive seeds; lengths from a quarter of `length` (at most LRA's 500) up
 * to `length`. At LRA's sizes this takes minutes, hence `progress`.
 */
export function generatedListOps(length: number, train: number, evalSize: number, seed: number, progress?: CountProgress): Record<keyof Splits, ListOpsExample[]> {
  const told = progress?.(`generating ListOps (up to ${length} tokens, seed ${seed})`, train + 2 * evalSize);
  let before = 0;
  const make = (count: number, s: number) => {
    const examples = generateListOps({ count, seed: s, minLength: Math.min(500, Math.floor(length / 4)), maxLength: length, onProgress: told && ((done) => told(before + done)) });
    before += count;
    return examples;
  };
  return { train: make(train, seed), val: make(evalSize, seed + 1), test: make(evalSize, seed + 2) };
}

/** Where a run folder keeps its generated ListOps, and the file that says how it was made. */
const RUN_DATA = 'data';
const STAMP = 'generated.json';

/** The version of the generator that made a run folder's ListOps data (1: before generated.json named it), or undefined if it has none. */
export function listOpsGeneratorOf(runDir: string): number | undefined {
  const stamp = join(runDir, RUN_DATA, STAMP);
  return existsSync(stamp) ? (JSON.parse(readFileSync(stamp, 'utf8')).generator ?? 1) : undefined;
}

/**
 * Generated ListOps in a run folder's data/, reused when `generated.json` says it was made with these settings
 * by this generator, or when the run resumes (its data stays what it started with).
 */
async function runListOps(runDir: string, settings: { length: number; train: number; eval: number; seed: number }, resume: boolean, progress?: CountProgress): Promise<Splits> {
  const dir = join(runDir, RUN_DATA);
  const stamp = join(dir, STAMP);
  const wanted = JSON.stringify({ ...settings, generator: LISTOPS_GENERATOR });
  const read = (split: string) => readListOps(join(dir, `basic_${split}.tsv`));
  if (existsSync(stamp) && (resume || readFileSync(stamp, 'utf8').trim() === wanted)) return { train: await read('train'), val: await read('val'), test: await read('test') };
  const splits = generatedListOps(settings.length, settings.train, settings.eval, settings.seed, progress);
  makeDir(dir);
  for (const [split, examples] of Object.entries(splits)) writeListOpsTsv(join(dir, `basic_${split}.tsv`), examples);
  writeFileAtomicSync(stamp, wanted + '\n');
  const encode = (xs: ListOpsExample[]) => xs.map((e) => ({ inputIds: listOpsTokens(e.source).map((t) => LISTOPS_VOCAB[t]), label: e.target }));
  return { train: encode(splits.train), val: encode(splits.val), test: encode(splits.test) };
}

export const LRA_TASKS: Readonly<Record<LraTaskName, LraTask>> = {
  listops: {
    ...LRA_SETTINGS.listops,
    async load(o) {
      let splits: Splits;
      if (o.data) {
        const read = async (split: string) => (o.testOnly && split !== 'test' ? [] : readListOps(join(o.data!, `basic_${split}.tsv`)));
        splits = { train: await read('train'), val: await read('val'), test: await read('test') };
      } else {
        const sizes = generatedSizes(this, o);
        splits = await runListOps(o.out, { length: o.length, train: sizes.train, eval: sizes.eval, seed: o.seed }, o.resume === true, o.progress);
      }
      if (o.dropBrackets) for (const xs of Object.values(splits)) for (const e of xs) e.inputIds = withoutBrackets(e.inputIds);
      return limit(splits, o);
    },
  },
  text: {
    ...LRA_SETTINGS.text,
    async load(o) {
      const dir = need(o, 'text', this.dataHelp);
      const test = await readImdbBytes(dir, 'test', o.length);
      return limit({ train: o.testOnly ? [] : await readImdbBytes(dir, 'train', o.length), val: test, test }, o);
    },
  },
  retrieval: {
    ...LRA_SETTINGS.retrieval,
    async load(o) {
      const dir = need(o, 'retrieval', this.dataHelp);
      const read = async (split: keyof typeof AAN_FILES) => (o.testOnly && split !== 'test' ? [] : readAan(join(dir, AAN_FILES[split]), o.length));
      return limit({ train: await read('train'), val: await read('val'), test: await read('test') }, o);
    },
  },
  image: {
    ...LRA_SETTINGS.image,
    async load(o) {
      const { train, test } = await readImageFolder(need(o, 'image', this.dataHelp));
      if (train[0].inputIds.length > o.length) throw new Error(`lra --task image: images of ${train[0].inputIds.length} pixels do not fit --length ${o.length}`);
      return holdOut(train, test, o);
    },
  },
  pathfinder: {
    ...LRA_SETTINGS.pathfinder,
    async load(o) {
      if (o.data) {
        const all = await readPathfinder(o.data);
        const [a, b] = [Math.floor(all.length * 0.8), Math.floor(all.length * 0.9)];
        return limit({ train: all.slice(0, a), val: all.slice(a, b), test: all.slice(b) }, o);
      }
      const { train, eval: evalSize } = generatedSizes(this, o);
      // in memory: `nystromformer lra-data pathfinder` writes the official layout when files are wanted
      const all = generatePathfinder({ count: train + 2 * evalSize, seed: o.seed }).map((e) => ({ inputIds: Array.from(e.pixels), label: e.label }));
      return { train: all.slice(0, train), val: all.slice(train, train + evalSize), test: all.slice(train + evalSize) };
    },
  },
};

/** One task by name; an unknown name throws, listing the five. */
export function lraTask(name: string): LraTask {
  return lookup(LRA_TASKS, name, 'task');
}
