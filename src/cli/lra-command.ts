/**
 * `nystromformer lra --task listops --attention nystrom-64`: trains the LRA encoder (docs/algorithm.md §3) on
 * one of the five tasks and reports test accuracy, time per step and peak memory. The paper's
 * settings are the defaults (AdamW lr 1e-4, no weight decay, one-cycle schedule, each task's length,
 * batch, warm-up, steps and validation interval); every one can be overridden. As in the official code,
 * the test set scores the model of the best validation. The run folder holds config.json,
 * checkpoints/, best/ and result.json; loadLraRun (models/lra/run.ts) and `export` read it back.
 * `lra-data` writes generated data to files.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { backend } from '../engine/index.js';
import { generatedListOps, generatedSizes, generatePathfinder, listOpsGeneratorOf, lraTask, writeListOpsTsv, writePathfinder } from '../data/index.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { makeDir } from '../io/make-dir.js';
import { LraClassifier } from '../models/index.js';
import { loadLraRun, readLraConfig, writeLraConfig } from '../models/lra/run.js';
import { manualSeed } from '../nn/index.js';
import { evaluateClassifier, openRunFolder, train, type TrainerOptions } from '../train/index.js';
import { countProgress, stepProgress } from './progress.js';
import { runOptions, saveRunOptions } from './run-options.js';

export interface LraCommandOptions {
  task: string;
  attention: string;
  data?: string;
  steps?: number;
  warmup?: number;
  batchSize?: number;
  lr: number;
  length?: number;
  /** Pad each batch to its longest example and pool over the real tokens (faster); the default pads as the official code. */
  dynamicPadding?: boolean;
  /** ListOps: drop the closing brackets, as the LRA pipeline the paper's code used did. */
  dropBrackets?: boolean;
  trainSize?: number;
  evalSize?: number;
  evalEvery?: number;
  seed: number;
  out?: string;
  checkpointEvery?: number;
  resume?: boolean;
  overwrite?: boolean;
  json?: boolean;
}

/** The run's settings: the task's paper values where no flag is given. */
function settings(o: LraCommandOptions) {
  const task = lraTask(o.task);
  const steps = o.steps ?? task.steps;
  return {
    // A shorter run keeps the paper's warm-up fraction (ListOps: 1000 of 5000 steps), not its warm-up length.
    task, steps, warmup: Math.min(o.warmup ?? Math.max(1, Math.round((task.warmup * steps) / task.steps)), steps), batchSize: o.batchSize ?? task.batchSize, length: o.length ?? task.length,
    evalEvery: o.evalEvery ?? Math.min(task.evalEvery, steps),
  };
}

/**
 * The official code's fixed input length: the task's length rounded up to a power of two (ListOps 2000 → 2048,
 * Text and Retrieval 4000 → 4096, Image and Pathfinder 1024), the rest masked padding; 0 with --dynamic-padding.
 */
export const officialPadTo = (length: number, dynamic = false): number => (dynamic ? 0 : 2 ** Math.ceil(Math.log2(length)));

/**
 * How the official LRA code trains (run_tasks.py): AdamW with betas (0.9, 0.999), ε 1e-6 (not PyTorch's
 * default 1e-8) and no weight decay, under OneCycleLR, without clipping or accumulation. Fixed-length
 * inputs (padTo > 0) gain nothing from batching similar lengths: their batches are drawn at random, as the
 * official code's. test/lra-training.test.ts checks these settings against PyTorch step by step.
 */
export function lraTrainerOptions(s: { steps: number; batchSize: number; lr: number; warmup: number; evalEvery: number; seed: number; padTo: number }): TrainerOptions {
  return {
    steps: s.steps, batchSize: s.batchSize, lr: s.lr, schedule: 'onecycle', warmup: s.warmup, optimizer: 'adamw', weightDecay: 0, adamEps: 1e-6,
    clipNorm: 0, accumulate: 1, evalEvery: s.evalEvery, patience: 0, checkpointEvery: s.steps, seed: s.seed, padId: 0, bucketByLength: s.padTo === 0,
  };
}

const runFolder = (o: LraCommandOptions) => o.out ?? join('runs', `lra-${o.task}-${o.attention}`);

export async function lraCommand(given: LraCommandOptions, command?: Command): Promise<void> {
  const out = runFolder(given);
  const o = runOptions('lra', out, given, command && ((name) => command.getOptionValueSource(name) === 'cli'));
  const { task, steps, warmup, batchSize, length, evalEvery } = settings(o);
  // Before any work (the data is generated or read next): a folder holding a run is refused, unless resumed or overwritten.
  openRunFolder(out, { resume: o.resume, overwrite: o.overwrite, command: 'lra' });
  const say = (line: string) => (o.json ? undefined : console.error(line));
  if (o.dropBrackets && o.task !== 'listops') throw new Error(`lra: --drop-brackets is for ListOps, not --task ${o.task}`);
  const splits = await task.load({ data: o.data, length, trainSize: o.trainSize, evalSize: o.evalSize, seed: o.seed, out, progress: countProgress, dropBrackets: o.dropBrackets, resume: o.resume });
  manualSeed(o.seed);
  // A resumed run rebuilds the model its folder describes (runs made before fixed-length padding have none).
  const fresh = () => {
    const padTo = officialPadTo(length, o.dynamicPadding);
    return { vocabSize: task.vocabSize, maxLength: padTo || length, classes: task.classes, attention: o.attention, dual: task.dual, padTo };
  };
  const model = new LraClassifier(o.resume ? readLraConfig(out) : fresh());
  const { padTo } = model.config;
  // Before training: a run folder describes its model from the first checkpoint on (loadLraRun, export).
  writeLraConfig(out, model);
  say(`LRA ${o.task}, ${o.attention}: ${splits.train.length} train / ${splits.val.length} val / ${splits.test.length} test examples of up to ${length} tokens, ${steps} steps of ${batchSize} → ${out}`);
  const b = backend();
  const before = b.bytesInUse;
  b.resetPeak();
  const started = performance.now();
  const result = await train(model, splits.train, splits.val, {
    ...lraTrainerOptions({ steps, batchSize, lr: o.lr, warmup, evalEvery, seed: o.seed, padTo }),
    checkpointEvery: o.checkpointEvery ?? steps, out, resume: o.resume, overwrite: o.overwrite,
    onReady: () => saveRunOptions(out, o),
    onStep: stepProgress(steps, !o.json && process.stderr.isTTY),
    onEval: (e) => say(`${process.stderr.isTTY ? '\n' : ''}step ${e.step}: val loss ${e.loss.toFixed(4)}, accuracy ${(100 * e.accuracy).toFixed(1)}%`),
  });
  const seconds = (performance.now() - started) / 1000;
  // The official code tests the weights of the best validation (best/), not the last ones; both are
  // reported. When the last validation was the best, they are the same weights: one pass scores both.
  const finalScore = await evaluateClassifier(model, splits.test, batchSize, 0, false);
  let testScore = finalScore;
  if (result.best && result.best.step !== result.step) {
    const best = loadLraRun(out);
    testScore = await evaluateClassifier(best, splits.test, batchSize, 0, false);
    best.dispose();
  }
  const report = {
    bench: 'lra', task: o.task, attention: o.attention, steps: result.step, batch: batchSize, length, pad_to: padTo, ...(o.dropBrackets && { drop_brackets: true }), lr: o.lr, warmup, seed: o.seed,
    data: o.data ?? 'generated', ...(!o.data && o.task === 'listops' && { generator: listOpsGeneratorOf(out) }), train_examples: splits.train.length, eval_every: evalEvery,
    val_accuracy: result.final.accuracy, best_val_accuracy: result.best?.value, best_step: result.best?.step,
    test_accuracy: testScore.accuracy, test_loss: testScore.loss, final_test_accuracy: finalScore.accuracy,
    ms_per_step: Math.round((seconds * 1000) / Math.max(1, result.step - result.resumedAt)), peak_mb: Math.round((b.peakBytes - before) / 2 ** 20),
  };
  writeFileAtomicSync(join(out, 'result.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(o.json ? JSON.stringify(report) : `test accuracy ${(100 * report.test_accuracy).toFixed(1)}%, ${report.ms_per_step} ms/step, peak ${report.peak_mb} MB`);
  model.dispose();
}

export interface LraDataOptions {
  task: string;
  out: string;
  trainSize?: number;
  evalSize?: number;
  length?: number;
  seed: number;
}

/** `nystromformer lra-data --task listops|pathfinder --out DIR`: generated data in the official file layout. */
export function lraDataCommand(o: LraDataOptions): void {
  const task = lraTask(o.task);
  if (!task.generated) throw new Error(`lra-data: task '${o.task}' is read from files, not generated (listops and pathfinder are generated)`);
  const { train, eval: evalSize } = generatedSizes(task, o);
  makeDir(o.out);
  if (o.task === 'listops') {
    const splits = generatedListOps(o.length ?? task.length, train, evalSize, o.seed, countProgress);
    for (const [split, examples] of Object.entries(splits)) writeListOpsTsv(join(o.out, `basic_${split}.tsv`), examples);
  } else {
    writePathfinder(o.out, generatePathfinder({ count: train + 2 * evalSize, seed: o.seed }));
  }
  console.error(`wrote ${train} train + ${evalSize} val + ${evalSize} test ${o.task} examples to ${o.out}`);
}
