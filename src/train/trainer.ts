/**
 * The training loop for sequence classification (and regression): length-bucketed batches, AdamW
 * or SGD with a schedule, gradient accumulation and clipping, periodic evaluation that keeps the
 * best model, early stopping, a JSONL log, checkpoints that resume exactly, and a clear stop on a
 * non-finite loss.
 */
import { appendFileSync, closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { backward, contiguous, mulScalar, noGrad, NonFiniteError, tidy } from '../engine/index.js';
import type { TokenExample } from '../data/synthetic.js';
import { makeDir } from '../io/make-dir.js';
import { writeSafetensorsSync } from '../io/safetensors.js';
import type { Tensor } from '../engine/index.js';
import { manualSeed, moduleTensors, seedState, type Module } from '../nn/index.js';
import { collate, epochBatches, exampleLength, type Batch } from './batches.js';
import { latestCheckpoint, loadTrainingState, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { AdamW, Optimizer, SGD } from './optimizers.js';
import { openRunFolder } from './run-folder.js';
import { learningRate, scheduledMomentum, type ScheduleKind } from './schedules.js';

export interface TrainerOptions {
  steps: number;
  batchSize: number;
  lr: number;
  schedule: ScheduleKind;
  /** Warm-up steps (default 6% of steps for linear/cosine, 10% for onecycle, 0 for constant). */
  warmup?: number;
  optimizer: 'adamw' | 'sgd';
  weightDecay: number;
  /** AdamW's ε (default 1e-8, PyTorch's; the LRA code uses 1e-6). */
  adamEps?: number;
  /** Clip the global gradient norm to this (0: no clipping). */
  clipNorm: number;
  /** Micro-batches per optimizer step. */
  accumulate: number;
  /** Evaluate every this many steps (and at the end). */
  evalEvery: number;
  /** Stop after this many evaluations without improvement (0: never). */
  patience: number;
  /** Checkpoint every this many steps (and at the end), when `out` is set. */
  checkpointEvery: number;
  seed: number;
  padId: number;
  /** Batch examples of similar length together (default); false draws batches at random (inputs of one fixed length). */
  bucketByLength?: boolean;
  /** Run folder: train.jsonl, checkpoints/, best/ and metrics.json. */
  out?: string;
  /** Continue from the run folder's latest checkpoint. */
  resume?: boolean;
  /** Replace a run already in the folder (without it, or resume, such a folder is refused). */
  overwrite?: boolean;
  /** Called once the run folder is open and a resumed checkpoint restored, before the first step (the CLI records the run's options then). */
  onReady?: () => void;
  /** Called after every step (progress bars). */
  onStep?: (record: StepRecord) => void;
  /** Called with each evaluation. */
  onEval?: (record: EvalRecord) => void;
  /** The task's metrics (e.g. GLUE's) from predictions (class ids, or values for regression) and gold labels. */
  metrics?: (predictions: number[], gold: number[]) => Record<string, number>;
}

export interface StepRecord { type: 'step'; step: number; epoch: number; loss: number; lr: number; grad_norm: number; tokens: number; seconds: number }
export interface EvalRecord { type: 'eval'; step: number; loss: number; accuracy: number; [metric: string]: number | string }
/** A model the trainer can train: a classifier (label per example) or a masked LM (label per token). */
export interface TrainableModel extends Module {
  forward(inputs: Batch): { loss?: Tensor; logits: Tensor };
  problemType?(): string;
  /** Writes a model folder others load (Hugging Face models); other models keep best/weights.safetensors. */
  save?(dir: string): Promise<void>;
}

const isRegression = (model: TrainableModel) => model.problemType?.() === 'regression';

export interface TrainResult {
  step: number;
  /** The step this call started from: a resumed checkpoint's, else 0. */
  resumedAt: number;
  final: EvalRecord;
  best: TrainerState['best'];
  stopped: 'steps' | 'early';
}

export async function train(
  model: TrainableModel, trainSet: readonly TokenExample[], evalSet: readonly TokenExample[], o: TrainerOptions,
): Promise<TrainResult> {
  const named = model.namedParameters();
  const optimizer: Optimizer = o.optimizer === 'sgd' ? new SGD(named, 0.9, o.weightDecay) : new AdamW(named, { weightDecay: o.weightDecay, eps: o.adamEps });
  try {
    return await trainWith(optimizer, model, trainSet, evalSet, o);
  } finally {
    optimizer.dispose(); // its state lives in the arena
  }
}

async function trainWith(
  optimizer: Optimizer, model: TrainableModel, trainSet: readonly TokenExample[], evalSet: readonly TokenExample[], o: TrainerOptions,
): Promise<TrainResult> {
  if (trainSet.length === 0) throw new Error('train: the training set is empty');
  const regression = isRegression(model);
  const warmup = o.warmup ?? Math.round(o.steps * (o.schedule === 'constant' ? 0 : o.schedule === 'onecycle' ? 0.1 : 0.06));
  const schedule = { kind: o.schedule, base: o.lr, total: o.steps, warmup };
  const log = (record: object) => o.out && appendFileSync(join(o.out, 'train.jsonl'), JSON.stringify(record) + '\n');
  if (o.out) openRunFolder(o.out, o);

  let state: TrainerState = { step: 0, epoch: 0, batch: 0, seedState: o.seed };
  const resumeFrom = o.resume && o.out ? latestCheckpoint(o.out) : null;
  if (o.resume && !resumeFrom) throw new Error(`train: --resume, but ${o.out ?? 'the run'} has no checkpoint`);
  if (resumeFrom) {
    state = loadTrainingState(resumeFrom, model, optimizer);
    endLogLine(join(o.out!, 'train.jsonl'));
    log({ type: 'resume', step: state.step, from: resumeFrom });
  }
  manualSeed(state.seedState);
  const resumedAt = state.step;
  o.onReady?.();

  const lengths = trainSet.map(exampleLength);
  const bucket = o.bucketByLength !== false;
  let batches = epochBatches(lengths, o.batchSize, o.seed, state.epoch, bucket);
  const nextBatch = () => {
    if (state.batch >= batches.length) {
      state.epoch++;
      state.batch = 0;
      batches = epochBatches(lengths, o.batchSize, o.seed, state.epoch, bucket);
    }
    return batches[state.batch++].map((i) => trainSet[i]);
  };
  const evaluate = async (): Promise<EvalRecord> => {
    const { loss, accuracy, predictions } = await evaluateClassifier(model, evalSet, o.batchSize, o.padId, regression);
    return { type: 'eval', step: state.step, loss, accuracy, ...o.metrics?.(predictions, evalSet.map((e) => e.label as number)) };
  };
  const checkpoint = async () => {
    if (o.out) await saveCheckpoint(o.out, model, optimizer, { ...state, seedState: seedState() });
  };

  let last: EvalRecord | undefined;
  let stopped: TrainResult['stopped'] = 'steps';
  while (state.step < o.steps) {
    const started = performance.now();
    model.train();
    let loss = 0;
    let tokens = 0;
    for (let micro = 0; micro < o.accumulate; micro++) {
      const examples = nextBatch();
      tokens += examples.reduce((s, e) => s + e.inputIds.length + (e.inputIds2?.length ?? 0), 0);
      try {
        const batchLoss = tidy(() => {
          const out = model.forward(collate(examples, o.padId, regression));
          backward(mulScalar(out.loss!, 1 / o.accumulate));
          return out.loss!;
        });
        // read asynchronously: a GPU backend has no other way
        loss += (await batchLoss.itemAsync()) / o.accumulate;
        batchLoss.dispose();
      } catch (e) {
        // a model refuses a non-finite forward: the weights have diverged
        if (e instanceof NonFiniteError) loss = NaN;
        else throw e;
      }
    }
    const { norm, scale } = await optimizer.clip(o.clipNorm);
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
      optimizer.zeroGrad();
      log({ type: 'error', step: state.step + 1, loss, grad_norm: norm });
      throw new NonFiniteError(
        'train',
        `train: the ${Number.isFinite(loss) ? 'gradient norm' : 'loss'} became ${Number.isFinite(loss) ? norm : loss} at step ${state.step + 1}; ` +
        `stopped before updating (the last checkpoint in ${o.out ?? '(no --out)'} is intact). Try a lower --lr or --clip-norm.`,
        { step: state.step + 1 },
      );
    }
    const lr = learningRate(schedule, state.step);
    optimizer.apply(lr, scale, scheduledMomentum(schedule, state.step));
    optimizer.zeroGrad();
    state.step++;
    const record: StepRecord = { type: 'step', step: state.step, epoch: state.epoch, loss, lr, grad_norm: norm, tokens, seconds: (performance.now() - started) / 1000 };
    log(record);
    o.onStep?.(record);
    if (state.step % o.evalEvery === 0 || state.step === o.steps) {
      last = await evaluate();
      log(last);
      o.onEval?.(last);
      const value = regression ? -last.loss : last.accuracy;
      if (!state.best || value > state.best.value) {
        state.best = { metric: regression ? 'neg_loss' : 'accuracy', value, step: state.step };
        state.stale = 0;
        if (o.out) await saveBest(model, join(o.out, 'best'));
      } else if (o.patience > 0 && (state.stale = (state.stale ?? 0) + 1) >= o.patience) {
        stopped = 'early';
        log({ type: 'early_stop', step: state.step });
        await checkpoint();
        break;
      }
    }
    if (state.step % o.checkpointEvery === 0 || state.step === o.steps) await checkpoint();
  }
  const final = last ?? (await evaluate());
  return { step: state.step, resumedAt, final, best: state.best, stopped };
}

async function saveBest(model: TrainableModel, dir: string): Promise<void> {
  if (model.save) return model.save(dir);
  makeDir(dir);
  writeSafetensorsSync(join(dir, 'weights.safetensors'), await moduleTensors(model));
}

/** A kill may have cut the log's last line short: start the next record on a line of its own. */
function endLogLine(path: string): void {
  if (!existsSync(path)) return;
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, Math.max(0, size - 1));
  closeSync(fd);
  if (size > 0 && last[0] !== 0x0a) appendFileSync(path, '\n');
}

/** Mean loss and accuracy (per example, or per labelled token for MLM; loss only for regression) over a set, in evaluation mode. */
export async function evaluateClassifier(
  model: TrainableModel, set: readonly TokenExample[], batchSize: number, padId: number, regression: boolean,
): Promise<{ loss: number; accuracy: number; predictions: number[] }> {
  if (set.length === 0) return { loss: NaN, accuracy: NaN, predictions: [] };
  model.eval();
  let loss = 0;
  let correct = 0;
  let scored = 0;
  const predictions: number[] = [];
  for (let i = 0; i < set.length; i += batchSize) {
    const examples = set.slice(i, i + batchSize);
    const outputs = noGrad(() => tidy(() => {
      const out = model.forward(collate(examples, padId, regression));
      return [out.loss!, contiguous(out.logits)];
    }));
    const [batchLoss, logits] = [(await outputs[0].read())[0], (await outputs[1].read()) as Float32Array];
    outputs.forEach((t) => t.dispose());
    loss += batchLoss * examples.length;
    if (Array.isArray(examples[0].label)) {
      // per-token labels: accuracy over the positions that have one
      const n = Math.max(...examples.map((e) => e.inputIds.length));
      const V = logits.length / (examples.length * n);
      examples.forEach((e, b) => (e.label as number[]).forEach((l, i) => {
        if (l < 0) return;
        const row = logits.subarray((b * n + i) * V, (b * n + i + 1) * V);
        scored++;
        if (row.indexOf(Math.max(...row)) === l) correct++;
      }));
      continue;
    }
    const C = logits.length / examples.length;
    examples.forEach((e, b) => {
      const row = logits.subarray(b * C, (b + 1) * C);
      const prediction = regression ? row[0] : row.indexOf(Math.max(...row));
      predictions.push(prediction);
      scored++;
      if (!regression && prediction === e.label) correct++;
    });
  }
  return { loss: loss / set.length, accuracy: regression ? NaN : correct / scored, predictions };
}
