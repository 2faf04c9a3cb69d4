/** What the whole-model benchmarks share: timing repeated calls (the engine's), and one training step. */
import { backward, Tensor, tidy } from '../engine/index.js';
import type { Optimizer } from '../train/index.js';

export { median, timeCalls } from '../engine/index.js';

/** A training step for benchmarks: the loss (a forward with labels), backward, one optimizer update. */
export function trainingStep(loss: () => Tensor, optimizer: Optimizer): () => void {
  return () => {
    tidy(() => backward(loss()));
    optimizer.apply(1e-4);
    optimizer.zeroGrad();
  };
}
