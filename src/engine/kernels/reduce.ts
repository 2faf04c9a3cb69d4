// Row reductions over contiguous [rows, cols] data: sum / max / min of each row, column sums,
// softmax and log-softmax (with gradients). Threads split rows (reduceCols: columns); a row is
// always reduced by one thread with a fixed operation order, so results never depend on nt.
//
// Sums: f32x4 accumulators over blocks of 64 floats, each block's total added into an f64
// accumulator (error ≈ a few f32 roundings per block, independent of the row length).
// Fully masked rows: softmax / log-softmax of a row that is all −inf is NaN (as in PyTorch:
// max = −inf, x − max = NaN); −inf entries in an otherwise finite row give 0 (log: −inf).
import { shareStart } from './partition';
import { REDUCE_MAX, REDUCE_SUM } from './op-codes';
import { hi64, lo64 } from './widen';
import './elementwise'; // @global f32x4 helpers: expv, loadPartial, storePartial

// @ts-ignore: decorator
@inline function sp(x: f32): v128 { return f32x4.splat(x); }
// @ts-ignore: decorator
@inline function add(a: v128, b: v128): v128 { return f32x4.add(a, b); }
// @ts-ignore: decorator
@inline function mul(a: v128, b: v128): v128 { return f32x4.mul(a, b); }
// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function ldf(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
/** Sum of the four lanes of v in f64 (exact for f32 inputs up to the final additions). */
// @ts-ignore: decorator
@inline function hsum64(v: v128): f64 {
  const w = f64x2.add(lo64(v), hi64(v));
  return f64x2.extract_lane(w, 0) + f64x2.extract_lane(w, 1);
}

// ---------------------------------------------------------------- block sums
/** Σ p[0..n) : blocks of 64 in four f32x4 accumulators, block totals in f64. */
function sum64(p: usize, n: i32): f64 {
  let acc: f64 = 0;
  let i = 0;
  for (; i + 64 <= n; i += 64) {
    let a0 = ld(p, i), a1 = ld(p, i + 4), a2 = ld(p, i + 8), a3 = ld(p, i + 12);
    for (let j = i + 16; j < i + 64; j += 16) {
      a0 = add(a0, ld(p, j)); a1 = add(a1, ld(p, j + 4));
      a2 = add(a2, ld(p, j + 8)); a3 = add(a3, ld(p, j + 12));
    }
    acc += hsum64(add(add(a0, a1), add(a2, a3)));
  }
  if (i < n) {
    let a = sp(0);
    for (; i + 4 <= n; i += 4) a = add(a, ld(p, i));
    acc += hsum64(a);
    for (; i < n; i++) acc += <f64>ldf(p, i);
  }
  return acc;
}
/** Σ p[i]·q[i] over [0, n), same blocking as sum64. */
function dot64(p: usize, q: usize, n: i32): f64 {
  let acc: f64 = 0;
  let i = 0;
  for (; i + 64 <= n; i += 64) {
    let a0 = mul(ld(p, i), ld(q, i)), a1 = mul(ld(p, i + 4), ld(q, i + 4));
    let a2 = mul(ld(p, i + 8), ld(q, i + 8)), a3 = mul(ld(p, i + 12), ld(q, i + 12));
    for (let j = i + 16; j < i + 64; j += 16) {
      a0 = add(a0, mul(ld(p, j), ld(q, j))); a1 = add(a1, mul(ld(p, j + 4), ld(q, j + 4)));
      a2 = add(a2, mul(ld(p, j + 8), ld(q, j + 8))); a3 = add(a3, mul(ld(p, j + 12), ld(q, j + 12)));
    }
    acc += hsum64(add(add(a0, a1), add(a2, a3)));
  }
  if (i < n) {
    let a = sp(0);
    for (; i + 4 <= n; i += 4) a = add(a, mul(ld(p, i), ld(q, i)));
    acc += hsum64(a);
    for (; i < n; i++) acc += <f64>(ldf(p, i) * ldf(q, i));
  }
  return acc;
}
/** max (isMax) or min of p[0..n); NaN propagates; −inf / +inf for n = 0. */
function extremum(p: usize, n: i32, isMax: bool): f32 {
  let i = 0;
  let r: f32 = isMax ? -Infinity : Infinity;
  if (n >= 16) {
    let a0 = ld(p, 0), a1 = ld(p, 4), a2 = ld(p, 8), a3 = ld(p, 12);
    for (i = 16; i + 16 <= n; i += 16) {
      if (isMax) {
        a0 = f32x4.max(a0, ld(p, i)); a1 = f32x4.max(a1, ld(p, i + 4));
        a2 = f32x4.max(a2, ld(p, i + 8)); a3 = f32x4.max(a3, ld(p, i + 12));
      } else {
        a0 = f32x4.min(a0, ld(p, i)); a1 = f32x4.min(a1, ld(p, i + 4));
        a2 = f32x4.min(a2, ld(p, i + 8)); a3 = f32x4.min(a3, ld(p, i + 12));
      }
    }
    const v = isMax ? f32x4.max(f32x4.max(a0, a1), f32x4.max(a2, a3)) : f32x4.min(f32x4.min(a0, a1), f32x4.min(a2, a3));
    r = isMax
      ? max<f32>(max<f32>(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max<f32>(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)))
      : min<f32>(min<f32>(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), min<f32>(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
  }
  for (; i < n; i++) r = isMax ? max<f32>(r, ldf(p, i)) : min<f32>(r, ldf(p, i));
  return r;
}

// ---------------------------------------------------------------- exports
/** y[r] = sum / max / min (REDUCE_* op) of row r of x [rows, cols]. */
export function reduceRows(tid: i32, nt: i32, op: i32, x: usize, y: usize, rows: i32, cols: i32): void {
  const r0 = shareStart(rows, tid, nt, 1), r1 = shareStart(rows, tid + 1, nt, 1);
  for (let r = r0; r < r1; r++) {
    const p = x + ((<usize>r * <usize>cols) << 2);
    const v: f32 = op == REDUCE_SUM ? <f32>sum64(p, cols) : extremum(p, cols, op == REDUCE_MAX);
    store<f32>(y + (<usize>r << 2), v);
  }
}

/** y[c] = Σ_r x[r, c]. Threads split columns (groups of 4). Per column: chunks of 32 rows summed
 *  in f32, chunk totals in f64 — the same per-column operations in the 16-wide, 4-wide and
 *  scalar loops, so the column grouping never changes a result. */
export function reduceCols(tid: i32, nt: i32, x: usize, y: usize, rows: i32, cols: i32): void {
  const c0 = shareStart(cols, tid, nt, 4), c1 = shareStart(cols, tid + 1, nt, 4);
  const pitch = <usize>cols << 2; // row pitch in bytes
  let c = c0;
  for (; c + 16 <= c1; c += 16) { // 16 columns: one cache line per row
    let l0 = f64x2.splat(0), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0, h3 = l0;
    for (let r = 0; r < rows; r += 32) {
      const re = min(rows, r + 32);
      let p = x + <usize>r * pitch + (<usize>c << 2);
      let a0 = v128.load(p), a1 = v128.load(p, 16), a2 = v128.load(p, 32), a3 = v128.load(p, 48);
      for (let k = r + 1; k < re; k++) {
        p += pitch;
        a0 = add(a0, v128.load(p)); a1 = add(a1, v128.load(p, 16));
        a2 = add(a2, v128.load(p, 32)); a3 = add(a3, v128.load(p, 48));
      }
      l0 = f64x2.add(l0, lo64(a0)); h0 = f64x2.add(h0, hi64(a0));
      l1 = f64x2.add(l1, lo64(a1)); h1 = f64x2.add(h1, hi64(a1));
      l2 = f64x2.add(l2, lo64(a2)); h2 = f64x2.add(h2, hi64(a2));
      l3 = f64x2.add(l3, lo64(a3)); h3 = f64x2.add(h3, hi64(a3));
    }
    const o = y + (<usize>c << 2);
    v128.store(o, pack(l0, h0)); v128.store(o, pack(l1, h1), 16);
    v128.store(o, pack(l2, h2), 32); v128.store(o, pack(l3, h3), 48);
  }
  for (; c + 4 <= c1; c += 4) {
    let l = f64x2.splat(0), h = l;
    for (let r = 0; r < rows; r += 32) {
      const re = min(rows, r + 32);
      let p = x + <usize>r * pitch + (<usize>c << 2);
      let a = v128.load(p);
      for (let k = r + 1; k < re; k++) { p += pitch; a = add(a, v128.load(p)); }
      l = f64x2.add(l, lo64(a)); h = f64x2.add(h, hi64(a));
    }
    const o = y + (<usize>c << 2);
    v128.store(o, pack(l, h));
  }
  for (; c < c1; c++) {
    let acc: f64 = 0;
    for (let r = 0; r < rows; r += 32) {
      const re = min(rows, r + 32);
      let p = x + <usize>r * pitch + (<usize>c << 2);
      let a = load<f32>(p);
      for (let k = r + 1; k < re; k++) { p += pitch; a += load<f32>(p); }
      acc += <f64>a;
    }
    store<f32>(y + (<usize>c << 2), <f32>acc);
  }
}
/** f32x4 of the f64 lanes (l0, l1, h0, h1), each rounded to nearest like a scalar <f32> cast. */
// @ts-ignore: decorator
@inline function pack(l: v128, h: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(l), f32x4.demote_f64x2_zero(h), 0, 1, 4, 5);
}

/** Row softmax: y = exp(x − max) / Σ exp(x − max). */
export function softmaxRows(tid: i32, nt: i32, x: usize, y: usize, rows: i32, cols: i32): void {
  const r0 = shareStart(rows, tid, nt, 1), r1 = shareStart(rows, tid + 1, nt, 1);
  for (let r = r0; r < r1; r++) {
    const off = (<usize>r * <usize>cols) << 2;
    const px = x + off, py = y + off;
    const m = sp(extremum(px, cols, true));
    // pass 1: y = exp(x − m), Σ in blocks of 32 (one f32x4 accumulator) with f64 totals
    let acc: f64 = 0;
    let i = 0;
    while (i + 4 <= cols) {
      const be = min(cols & ~3, i + 32);
      let a = sp(0);
      for (; i < be; i += 4) {
        const e = expv(f32x4.sub(ld(px, i), m));
        v128.store(py + (<usize>i << 2), e);
        a = add(a, e);
      }
      acc += hsum64(a);
    }
    if (i < cols) {
      const k = cols - i;
      const e = expv(f32x4.sub(loadPartial(px + (<usize>i << 2), k), m));
      storePartial(py + (<usize>i << 2), k, e);
      acc += <f64>f32x4.extract_lane(e, 0);
      if (k > 1) acc += <f64>f32x4.extract_lane(e, 1);
      if (k > 2) acc += <f64>f32x4.extract_lane(e, 2);
    }
    // pass 2: y *= 1/Σ (reciprocal computed in f64, rounded once)
    const inv = <f32>(1.0 / acc);
    scaleRow(py, cols, inv);
  }
}
function scaleRow(p: usize, n: i32, s: f32): void {
  const v = sp(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(p + (<usize>i << 2), mul(ld(p, i), v));
  for (; i < n; i++) store<f32>(p + (<usize>i << 2), ldf(p, i) * s);
}

/** dx = y ⊙ (dy − Σ dy⊙y), per row. */
export function softmaxRowsGrad(tid: i32, nt: i32, y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const r0 = shareStart(rows, tid, nt, 1), r1 = shareStart(rows, tid + 1, nt, 1);
  for (let r = r0; r < r1; r++) {
    const off = (<usize>r * <usize>cols) << 2;
    const py = y + off, pd = dy + off, po = dx + off;
    const s = <f32>dot64(pd, py, cols);
    const vs = sp(s);
    let i = 0;
    for (; i + 4 <= cols; i += 4) v128.store(po + (<usize>i << 2), mul(ld(py, i), f32x4.sub(ld(pd, i), vs)));
    for (; i < cols; i++) store<f32>(po + (<usize>i << 2), ldf(py, i) * (ldf(pd, i) - s));
  }
}

/** Row log-softmax: y = (x − max) − log Σ exp(x − max) (the log taken in f64). */
export function logSoftmaxRows(tid: i32, nt: i32, x: usize, y: usize, rows: i32, cols: i32): void {
  const r0 = shareStart(rows, tid, nt, 1), r1 = shareStart(rows, tid + 1, nt, 1);
  for (let r = r0; r < r1; r++) {
    const off = (<usize>r * <usize>cols) << 2;
    const px = x + off, py = y + off;
    const mf = extremum(px, cols, true);
    const m = sp(mf);
    let acc: f64 = 0;
    let i = 0;
    while (i + 4 <= cols) {
      const be = min(cols & ~3, i + 32);
      let a = sp(0);
      for (; i < be; i += 4) a = add(a, expv(f32x4.sub(ld(px, i), m)));
      acc += hsum64(a);
    }
    if (i < cols) {
      const k = cols - i;
      const e = expv(f32x4.sub(loadPartial(px + (<usize>i << 2), k), m));
      acc += <f64>f32x4.extract_lane(e, 0);
      if (k > 1) acc += <f64>f32x4.extract_lane(e, 1);
      if (k > 2) acc += <f64>f32x4.extract_lane(e, 2);
    }
    const ls = <f32>Math.log(acc);
    const vl = sp(ls);
    for (i = 0; i + 4 <= cols; i += 4) {
      v128.store(py + (<usize>i << 2), f32x4.sub(f32x4.sub(ld(px, i), m), vl));
    }
    for (; i < cols; i++) store<f32>(py + (<usize>i << 2), (ldf(px, i) - mf) - ls);
  }
}

/** dx = dy − exp(y)·Σ dy, per row (y = log-softmax output). */
export function logSoftmaxRowsGrad(tid: i32, nt: i32, y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const r0 = shareStart(rows, tid, nt, 1), r1 = shareStart(rows, tid + 1, nt, 1);
  for (let r = r0; r < r1; r++) {
    const off = (<usize>r * <usize>cols) << 2;
    const py = y + off, pd = dy + off, po = dx + off;
    const s = sp(<f32>sum64(pd, cols));
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      v128.store(po + (<usize>i << 2), f32x4.sub(ld(pd, i), mul(expv(ld(py, i)), s)));
    }
    if (i < cols) {
      const k = cols - i, o = <usize>i << 2;
      storePartial(po + o, k, f32x4.sub(loadPartial(pd + o, k), mul(expv(loadPartial(py + o, k)), s)));
    }
  }
}
