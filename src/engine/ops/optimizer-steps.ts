/**
 * The optimizers' arithmetic on the engine (kernels: optimizers.ts): one fused in-place update of
 * every parameter and its state, and the squared global gradient norm with a single scalar read.
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
  /** 1 − lr·weightDecay, for the parameters that take decay. */
  shrink: number;
}

export interface SgdStep {
  gradScale: number;
  lr: number;
  momentum: number;
  weightDecay: number;
}

/** One parameter of an AdamW step: its gradient (any layout) and moments; decay: whether it takes weight decay. */
export interface AdamWParam {
  w: Tensor;
  g: Tensor;
  m: Tensor;
  v: Tensor;
  decay: boolean;
}

/** Every parameter (and its moments) updated in place by one fused kernel call. */
export function adamwStep(params: readonly AdamWParam[], s: AdamWStep): void {
  for (const p of params) checkState('adamwStep', p.w, p.g, [p.m, p.v]);
  const sizes = params.map((p) => p.w.size);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total === 0) return;
  withContiguous(params.map((p) => p.g), (...gs) => run('adamw', [
    params.map((p) => p.w), gs, params.map((p) => p.m), params.map((p) => p.v), sizes, params.map((p) => (p.decay ? 1 : 0)),
    params.length, total, s.gradScale, s.lr, s.beta1, s.beta2, s.c1, s.c2, s.eps, s.shrink,
  ], total * 16));
}

/** One parameter of an SGD step: its gradient (any layout) and momentum buffer (null without momentum). */
export interface SgdParam {
  w: Tensor;
  g: Tensor;
  buf: Tensor | null;
}

/** Every parameter (and its momentum buffer) updated in place by one fused kernel call. */
export function sgdStep(params: readonly SgdParam[], s: SgdStep): void {
  for (const p of params) checkState('sgdStep', p.w, p.g, p.buf ? [p.buf] : []);
  const sizes = params.map((p) => p.w.size);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total === 0) return;
  withContiguous(params.map((p) => p.g), (...gs) => run('sgd', [
    params.map((p) => p.w), gs, params.map((p) => p.buf), sizes, params.length, total, s.gradScale, s.lr, s.momentum, s.weightDecay,
  ], total * 8));
}

/**
 * Σ x² over all the tensors' elements, accumulated into one float64 by the sumSquares kernel; one
 * read back. CPU backends sum in order in float64; the WebGPU kernel sums each tensor in float32 (WGSL
 * has no float64) and adds it to the float64 total.
 */
export async function sumOfSquares(tensors: readonly Tensor[]): Promise<number> {
  for (const t of tensors) if (t.dtype !== 'float32') throw new Error(`sumOfSquares: expects float32, got ${t.dtype} ${fmt(t.shape)}`);
  const acc = Tensor.from(new Int32Array(2), [2], 'int32'); // one float64, zero
  try {
    for (const t of tensors) withContiguous([t], (tc) => run('sumSquares', [tc, t.size, acc], t.size));
    return new Float64Array((await acc.read()).buffer)[0];
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
