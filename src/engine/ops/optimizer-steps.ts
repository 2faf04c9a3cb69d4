/**
 * The optimizers' arithmetic on the engine (kernels: optimizers.ts): fused in-place updates of a
 * parameter and its state, and the squared global gradient norm with a single scalar read.
 * Not recorded for autograd. Scalars are float64, as the kernels compute.
 */
import { fmt, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { run, withContiguous } from './kernel.js';

export interface AdamWStep {
  gradScale: number;
  lr: number;
  beta1: number;
  beta2: number;
  /** Bias corrections 1 − β₁^step and 1 − β₂^step. */
  c1: number;
  c2: number;
  eps: number;
  /** 1 − lr·weightDecay, or 1 where the parameter takes no decay. */
  shrink: number;
}

export interface SgdStep {
  gradScale: number;
  lr: number;
  momentum: number;
  weightDecay: number;
}

/** w, m, v updated in place from the gradient g (any layout). */
export function adamwStep(w: Tensor, g: Tensor, m: Tensor, v: Tensor, s: AdamWStep): void {
  checkState('adamwStep', w, g, [m, v]);
  withContiguous([g], (gc) =>
    run('adamw', [w, gc, m, v, w.size, s.gradScale, s.lr, s.beta1, s.beta2, s.c1, s.c2, s.eps, s.shrink], w.size * 16),
  );
}

/** w (and the momentum buffer, when given) updated in place from the gradient g (any layout). */
export function sgdStep(w: Tensor, g: Tensor, buf: Tensor | null, s: SgdStep): void {
  checkState('sgdStep', w, g, buf ? [buf] : []);
  withContiguous([g], (gc) => run('sgd', [w, gc, buf, w.size, s.gradScale, s.lr, s.momentum, s.weightDecay], w.size * 8));
}

/** Σ x² over all the tensors' elements, summed in order in float64; one read back. */
export function sumOfSquares(tensors: readonly Tensor[]): number {
  const acc = Tensor.from(new Int32Array(2), [2], 'int32'); // one float64, zero
  try {
    for (const t of tensors) {
      if (t.dtype !== 'float32') throw new Error(`sumOfSquares: expects float32, got ${t.dtype} ${fmt(t.shape)}`);
      withContiguous([t], (tc) => run('sumSquares', [tc, t.size, acc], t.size));
    }
    return new Float64Array(acc.toArray().buffer)[0];
  } finally {
    acc.dispose();
  }
}

/** The parameter and its state are contiguous float32 (updated in place); the gradient matches. */
function checkState(op: string, w: Tensor, g: Tensor, state: readonly Tensor[]): void {
  for (const t of [w, g, ...state]) {
    if (t.dtype !== 'float32') throw new Error(`${op}: expects float32 tensors, got ${t.dtype} ${fmt(t.shape)}`);
  }
  if (!sameShape(g.shape, w.shape)) throw new Error(`${op}: gradient ${fmt(g.shape)} does not match parameter ${fmt(w.shape)}`);
  for (const t of [w, ...state]) {
    if (!t.isContiguous || t.size !== w.size) throw new Error(`${op}: parameter and state must be contiguous with ${w.size} elements, got ${fmt(t.shape)}`);
  }
}
