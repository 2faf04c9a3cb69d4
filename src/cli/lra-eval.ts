/**
 * `nystromformer eval --model RUN_DIR --task <lra task> --data DIR`: a saved `lra` run (config.json with
 * best/ or checkpoints/, read by loadLraRun) evaluated on the test split of data in the official layout,
 * read by the same loaders as `lra --data` (src/cli/lra-tasks.ts).
 */
import { loadLraRun } from '../models/lra/run.js';
import { evaluateClassifier } from '../train/index.js';
import { lraTask } from '../data/index.js';
import { countProgress } from './progress.js';
import { readRunOptions } from './run-options.js';

/** Whether the run was trained on ListOps without closing brackets (its options.json), so that its test data is fed the same way. */
const trainedWithoutBrackets = (run: string): boolean => readRunOptions('eval', run)?.dropBrackets === true;

export interface LraEvalOptions {
  model: string;
  task: string;
  data: string;
  /** Tokens per example; the run's maxLength by default (longer inputs are cut, as `lra` cut them). */
  seqLen?: number;
  batchSize: number;
  seed: number;
  json?: boolean;
  runtime?: string;
}

export interface LraEvalResult {
  task: string;
  model: string;
  attention: string;
  examples: number;
  loss: number;
  accuracy: number;
  seconds: number;
}

export async function lraEval(o: LraEvalOptions): Promise<LraEvalResult> {
  if (o.runtime && o.runtime !== 'engine') throw new Error(`eval --task ${o.task}: --runtime ${o.runtime} is not supported for LRA runs (the engine runs them; \`export\` writes ONNX)`);
  const started = performance.now();
  const task = lraTask(o.task);
  const model = loadLraRun(o.model);
  try {
    const { maxLength, attention } = model.config;
    if (o.seqLen !== undefined && o.seqLen > maxLength) throw new Error(`eval: --seq-len ${o.seqLen} is longer than the run's maxLength ${maxLength} (${o.model}/config.json)`);
    const { test } = await task.load({
      data: o.data, length: o.seqLen ?? maxLength, seed: o.seed, out: o.model, testOnly: true, progress: countProgress, dropBrackets: trainedWithoutBrackets(o.model),
    });
    if (test.length === 0) throw new Error(`eval: ${o.data} has no ${o.task} test examples`);
    const r = await evaluateClassifier(model, test, o.batchSize, 0, false);
    return { task: o.task, model: o.model, attention, examples: test.length, loss: r.loss, accuracy: r.accuracy, seconds: Math.round((performance.now() - started) / 100) / 10 };
  } finally {
    model.dispose();
  }
}

export async function lraEvalCommand(o: LraEvalOptions): Promise<void> {
  const r = await lraEval(o);
  if (o.json) console.log(JSON.stringify(r));
  else console.log(`LRA ${r.task}, ${r.attention} (${r.model}), ${r.examples} test examples: accuracy ${(100 * r.accuracy).toFixed(2)}%  loss ${r.loss.toFixed(4)}  ${r.seconds} s`);
}
