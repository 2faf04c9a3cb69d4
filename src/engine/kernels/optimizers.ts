// Optimizer updates and the squared gradient norm, in float64 arithmetic on float32 storage: each
// element goes through the same IEEE operations, in the same order, as the float64 JavaScript
// reference (kernels.check.mjs), so an update is bit-identical to it. One call updates every
// parameter: the tensors are lists of addresses, their elements one index space [0, total) that
// threads split freely (elements are independent). sumSquares is one ordered sum, on thread 0.
import { shareStart } from './partition';

// @ts-ignore: decorator
@inline function at(list: usize, t: i32): usize { return <usize>load<u32>(list + (<usize>t << 2)); }
// @ts-ignore: decorator
@inline function sizeOf(sizes: usize, t: i32): i32 { return load<i32>(sizes + (<usize>t << 2)); }

const ADAMW = 0;
const SGD = 1;

/** This thread's share of [0, total), tensor by tensor: the update `kind` (a constant, so the
 *  branches fold away) on elements [lo, hi) of each tensor t it touches. Lists states, states2
 *  hold the state (AdamW: m, v; SGD: momentum buffers, states2 unused); p0…p7 the scalars in order. */
// @ts-ignore: decorator
@inline function multiStep(
  kind: i32, tid: i32, nt: i32, ws: usize, gs: usize, states: usize, states2: usize, sizes: usize, decays: usize, count: i32, total: i32,
  p0: f64, p1: f64, p2: f64, p3: f64, p4: f64, p5: f64, p6: f64, p7: f64,
): void {
  const s = shareStart(total, tid, nt, 64), e = shareStart(total, tid + 1, nt, 64);
  let base = 0;
  for (let t = 0; t < count && base < e; t++) {
    const n = sizeOf(sizes, t);
    const lo = max(s, base) - base, hi = min(e, base + n) - base;
    base += n;
    if (lo >= hi) continue;
    if (kind == ADAMW) {
      const shrink = load<i32>(decays + (<usize>t << 2)) != 0 ? p7 : 1;
      adamwRange(at(ws, t), at(gs, t), at(states, t), at(states2, t), lo, hi, p0, p1, p2, p3, p4, p5, p6, shrink);
    } else sgdRange(at(ws, t), at(gs, t), at(states, t), lo, hi, p0, p1, p2, p3);
  }
}

// @ts-ignore: decorator
@inline function adamwRange(
  w: usize, g: usize, m: usize, v: usize, lo: i32, hi: i32,
  gradScale: f64, lr: f64, beta1: f64, beta2: f64, c1: f64, c2: f64, eps: f64, shrink: f64,
): void {
  for (let i = lo; i < hi; i++) {
    const o = <usize>i << 2;
    const gi = <f64>load<f32>(g + o) * gradScale;
    const mi = <f32>(beta1 * <f64>load<f32>(m + o) + (1 - beta1) * gi);
    const vi = <f32>(beta2 * <f64>load<f32>(v + o) + (1 - beta2) * gi * gi);
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(w + o, <f32>(<f64>load<f32>(w + o) * shrink - (lr * (<f64>mi / c1)) / (sqrt<f64>(<f64>vi / c2) + eps)));
  }
}

// @ts-ignore: decorator
@inline function sgdRange(w: usize, g: usize, buf: usize, lo: i32, hi: i32, gradScale: f64, lr: f64, momentum: f64, weightDecay: f64): void {
  for (let i = lo; i < hi; i++) {
    const o = <usize>i << 2;
    let d = <f64>load<f32>(g + o) * gradScale + weightDecay * <f64>load<f32>(w + o);
    if (buf != 0) {
      d = momentum * <f64>load<f32>(buf + o) + d;
      store<f32>(buf + o, <f32>d);
    }
    store<f32>(w + o, <f32>(<f64>load<f32>(w + o) - lr * d));
  }
}

/** AdamW over `count` tensors (lists ws, gs, ms, vs of addresses; sizes; decays: 1 where the tensor
 *  takes weight decay): m, v ← moments of g·gradScale; w ← w·shrink − lr·(m/c1)/(√(v/c2) + eps).
 *  c1, c2 are the bias corrections 1 − β^step; shrink = 1 − lr·decay applies where decays[t] = 1. */
export function adamw(
  tid: i32, nt: i32,
  ws: usize, gs: usize, ms: usize, vs: usize, sizes: usize, decays: usize, count: i32, total: i32,
  gradScale: f64, lr: f64, beta1: f64, beta2: f64, c1: f64, c2: f64, eps: f64, shrink: f64,
): void {
  multiStep(ADAMW, tid, nt, ws, gs, ms, vs, sizes, decays, count, total, gradScale, lr, beta1, beta2, c1, c2, eps, shrink);
}

/** SGD over `count` tensors: d = g·gradScale + decay·w; with momentum (bufs[t] ≠ 0)
 *  d = buf = momentum·buf + d (the update uses d before its rounding into buf); w ← w − lr·d. */
export function sgd(
  tid: i32, nt: i32,
  ws: usize, gs: usize, bufs: usize, sizes: usize, count: i32, total: i32,
  gradScale: f64, lr: f64, momentum: f64, weightDecay: f64,
): void {
  multiStep(SGD, tid, nt, ws, gs, bufs, 0, sizes, 0, count, total, gradScale, lr, momentum, weightDecay, 0, 0, 0, 0);
}

/** acc (one f64) += Σ x[i]², in order: a running total across calls, as the reference sums. */
export function sumSquares(tid: i32, nt: i32, x: usize, n: i32, acc: usize): void {
  if (tid != 0) return;
  let s = load<f64>(acc);
  for (let i = 0; i < n; i++) {
    const xi = <f64>load<f32>(x + (<usize>i << 2));
    s += xi * xi;
  }
  store<f64>(acc, s);
}
