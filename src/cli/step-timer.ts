/** What the whole-model benchmarks share: timing repeated calls (the engine's), and one training step. */
import { backward, mulScalar, Tensor, tidy } from '../engine/index.js';
import type { Optimizer } from '../train/index.js';

export { median, timeCalls } from '../engine/index.js';

/**
 * A training step for benchmarks: the loss (a forward with labels) and backward of each of
 * `accumulate` micro-batches, the gradients summed as the trainer sums them, then one optimizer update.
 */
export function trainingStep(loss: (micro: number) => Tensor, optimizer: Optimizer, accumulate = 1): () => void {
  return () => {
    for (let micro = 0; micro < accumulate; micro++) {
      tidy(() => backward(accumulate === 1 ? loss(micro) : mulScalar(loss(micro), 1 / accumulate)));
    }
    optimizer.apply(1e-4);
    optimizer.zeroGrad();
  };
}
