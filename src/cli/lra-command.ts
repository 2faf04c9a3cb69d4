/**
 * `nystromformer lra --task listops --attention nystrom-64`: trains the LRA encoder (SPEC.md §3) on
 * a task and reports test accuracy, time per step and peak memory. ListOps data is generated (or
 * read from `--data` in the official TSV layout). The paper's optimiser settings are the defaults:
 * AdamW lr 1e-4, no weight decay, one-cycle linear schedule; steps and sizes are reduced by flag.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { backend } from '../engine/index.js';
import { generateListOps, LISTOPS_VOCAB_SIZE, listOpsTokens, LISTOPS_VOCAB, readListOps, writeListOpsTsv } from '../data/listops.js';
import type { TokenExample } from '../data/synthetic.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { LraClassifier } from '../models/index.js';
import { manualSeed } from '../nn/index.js';
import { evaluateClassifier, train } from '../train/index.js';

export interface LraCommandOptions {
  task: string;
  attention: string;
  data?: string;
  steps: number;
  warmup: number;
  batchSize: number;
  lr: number;
  length: number;
  trainSize: number;
  evalSize: number;
  evalEvery: number;
  seed: number;
  out: string;
  json?: boolean;
}

export async function lraCommand(o: LraCommandOptions): Promise<void> {
  if (o.task !== 'listops') throw new Error(`lra: task '${o.task}' is not available yet (listops; text, retrieval, image and pathfinder come next)`);
  const { train: trainSet, val, test } = await listOps(o);
  manualSeed(o.seed);
  const model = new LraClassifier({ vocabSize: LISTOPS_VOCAB_SIZE, maxLength: o.length, classes: 10, attention: o.attention });
  const say = (line: string) => (o.json ? undefined : console.error(line));
  say(`LRA ${o.task}, ${o.attention}: ${trainSet.length} train / ${val.length} val / ${test.length} test sequences of up to ${o.length} tokens, ${o.steps} steps → ${o.out}`);
  const b = backend();
  const before = b.bytesInUse;
  b.resetPeak();
  const started = performance.now();
  const result = await train(model, trainSet, val, {
    steps: o.steps, batchSize: o.batchSize, lr: o.lr, schedule: 'onecycle', warmup: o.warmup, optimizer: 'adamw', weightDecay: 0,
    clipNorm: 0, accumulate: 1, evalEvery: o.evalEvery, patience: 0, checkpointEvery: o.steps, seed: o.seed, padId: 0, out: o.out,
    onEval: (e) => say(`step ${e.step}: val loss ${e.loss.toFixed(4)}, accuracy ${(100 * e.accuracy).toFixed(1)}%`),
  });
  const seconds = (performance.now() - started) / 1000;
  const testScore = evaluateClassifier(model, test, o.batchSize, 0, false);
  const report = {
    bench: 'lra', task: o.task, attention: o.attention, steps: result.step, batch: o.batchSize, length: o.length,
    val_accuracy: result.final.accuracy, test_accuracy: testScore.accuracy, test_loss: testScore.loss,
    ms_per_step: Math.round((seconds * 1000) / Math.max(1, result.step)), peak_mb: Math.round((b.peakBytes - before) / 2 ** 20),
  };
  writeFileAtomicSync(join(o.out, 'result.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(o.json ? JSON.stringify(report) : `test accuracy ${(100 * report.test_accuracy).toFixed(1)}%, ${report.ms_per_step} ms/step, peak ${report.peak_mb} MB`);
  model.dispose();
}

/** The three splits: read from --data (basic_{train,val,test}.tsv) or generated and written to the run folder. */
async function listOps(o: LraCommandOptions): Promise<Record<'train' | 'val' | 'test', TokenExample[]>> {
  const fit = (examples: { inputIds: number[]; label: number }[]) => examples.map((e) => ({ ...e, inputIds: e.inputIds.slice(0, o.length) }));
  if (o.data) {
    const read = async (split: string) => fit(await readListOps(join(o.data!, `basic_${split}.tsv`)));
    return { train: await read('train'), val: await read('val'), test: await read('test') };
  }
  const maxLength = o.length;
  const minLength = Math.min(500, Math.floor(maxLength / 4));
  const make = (count: number, seed: number) => generateListOps({ count, seed, minLength, maxLength });
  const splits = { train: make(o.trainSize, o.seed), val: make(o.evalSize, o.seed + 1), test: make(o.evalSize, o.seed + 2) };
  const dataDir = join(o.out, 'data');
  if (!existsSync(dataDir)) {
    mkdirSync(dataDir, { recursive: true });
    for (const [split, examples] of Object.entries(splits)) writeListOpsTsv(join(dataDir, `basic_${split}.tsv`), examples);
  }
  const encode = (examples: typeof splits.train) => examples.map((e) => ({ inputIds: listOpsTokens(e.source).map((t) => LISTOPS_VOCAB[t]), label: e.target }));
  return { train: encode(splits.train), val: encode(splits.val), test: encode(splits.test) };
}
