/**
 * Reverse-mode autograd. Each op records, beside its forward, a node holding its inputs and a
 * backward closure (its vector-Jacobian product). `backward` walks the recorded graph from an
 * output in reverse topological order.
 */
import { keep, tidy } from './scope.js';
import type { GradNode, Tensor } from './tensor.js';

export type { GradNode } from './tensor.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording anything for backward. */
export const noGrad = <T>(fn: () => T): T => withGradMode(false, fn);

/** Runs fn with recording on, e.g. a backward that differentiates a small sub-computation. */
export const withGrad = <T>(fn: () => T): T => withGradMode(true, fn);

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Records `out` as computed by `op` from `inputs`, if any of them needs a gradient. */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

/**
 * Runs a composition of ops. When nothing is being recorded its intermediates are freed at
 * once; when it is, they must live until backward, so they stay in the caller's scope.
 */
export function composite<T>(inputs: readonly Tensor[], fn: () => T): T {
  return gradEnabled && inputs.some((t) => t.requiresGrad) ? fn() : tidy(fn);
}

/** Marks a tensor as a trainable leaf: it outlives scopes and collects `.grad`. */
export function parameter(t: Tensor): Tensor {
  if (t.dtype !== 'float32') throw new Error(`parameter: only float32 tensors can require gradients, got ${t.dtype}`);
  t.requiresGrad = true;
  return keep(t);
}

