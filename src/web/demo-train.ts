/**
 * Training in the browser: a few optimizer steps with the parts of src/train that need no file
 * system (AdamW, the learning-rate schedule, length-bucketed batches, collate). train() in
 * trainer.ts also writes logs, checkpoints and the best model to a folder, so the demo runs this
 * short loop instead; its step is the trainer's: forward with labels, backward, clip the global
 * gradient norm, AdamW. Host-neutral: the e2e test runs it in Node on the same examples.
 */
import { backward, manualSeed, NonFiniteError, tidy } from './core.js';
import { majorityTask, type TokenExample } from '../data/synthetic.js';
import { collate, epochBatches, exampleLength } from '../train/batches.js';
import { AdamW } from '../train/optimizers.js';
import { learningRate } from '../train/schedules.js';
import type { TrainableModel } from '../train/trainer.js';

export interface TrainSettings {
  steps: number;
  batchSize: number;
  /** Peak learning rate: linear warm-up, then linear decay to 0 at the last step. */
  lr: number;
  warmup: number;
  /** Global gradient-norm clip (0: none). */
  clipNorm: number;
  weightDecay: number;
  /** Seeds the batch order and the dropout masks, so Node and the browser take the same steps. */
  seed: number;
  padId: number;
}

/** The demo's settings: a tiny model learns quickly at a high rate. */
export const DEMO_TRAINING: Omit<TrainSettings, 'padId'> & { seqLen: number } = {
  steps: 30, batchSize: 4, lr: 3e-3, warmup: 3, clipNorm: 1, weightDecay: 0.01, seed: 0, seqLen: 64,
};

export interface TrainStep {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  ms: number;
}

/** Trains `model` in place for `s.steps` steps; `onStep` sees each step as it ends. The model is left in eval mode. */
export async function trainSteps(model: TrainableModel, examples: readonly TokenExample[], s: TrainSettings, onStep?: (r: TrainStep) => void): Promise<TrainStep[]> {
  if (examples.length === 0) throw new Error('training: there are no examples (the document is empty?)');
  manualSeed(s.seed);
  const optimizer = new AdamW(model.namedParameters(), { weightDecay: s.weightDecay });
  const schedule = { kind: 'linear' as const, base: s.lr, total: s.steps, warmup: s.warmup };
  const lengths = examples.map(exampleLength);
  let [epoch, batches] = [0, epochBatches(lengths, s.batchSize, s.seed, 0)];
  const records: TrainStep[] = [];
  model.train();
  try {
    for (let step = 0; step < s.steps; step++) {
      if (batches.length === 0) batches = epochBatches(lengths, s.batchSize, s.seed, ++epoch);
      const batch = batches.shift()!.map((i) => examples[i]);
      const t0 = performance.now();
      const lossTensor = tidy(() => {
        const out = model.forward(collate(batch, s.padId));
        backward(out.loss!);
        return out.loss!;
      });
      const loss = await lossTensor.itemAsync(); // the one way back from a GPU
      lossTensor.dispose();
      const { norm, scale } = await optimizer.clip(s.clipNorm);
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
        optimizer.zeroGrad();
        throw new NonFiniteError('training', `training: the ${Number.isFinite(loss) ? 'gradient norm' : 'loss'} became ${Number.isFinite(loss) ? norm : loss} at step ${step + 1}; try a lower learning rate`, { step: step + 1 });
      }
      const lr = learningRate(schedule, step);
      optimizer.apply(lr, scale);
      optimizer.zeroGrad();
      const record = { step: step + 1, loss, lr, gradNorm: norm, ms: performance.now() - t0 };
      records.push(record);
      onStep?.(record);
    }
  } finally {
    optimizer.zeroGrad();
    optimizer.dispose();
    model.eval();
  }
  return records;
}

/** Classifier examples: the embedded synthetic task (which of two marker tokens occurs more often), sized to the model. */
export function syntheticExamples(maxPositions: number, vocabSize: number, seed: number): TokenExample[] {
  const maxLength = Math.min(128, maxPositions);
  return majorityTask({ count: 64, seed, minLength: Math.min(48, Math.ceil(maxLength / 2)), maxLength, vocabSize: Math.min(64, vocabSize) });
}
