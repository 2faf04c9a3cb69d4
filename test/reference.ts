/**
 * Float64 reference implementations of the engine's ops, the ground truth of the tests.
 * Written for obviousness, not speed: every op loops over multi-indices of its output.
 * Semantics follow PyTorch.
 */
export interface NDArray {
  shape: number[];
  data: Float64Array;
}

// ---------- indexing helpers ----------

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((s, d) => s * d, 1);
}

export function nd(shape: readonly number[], data?: ArrayLike<number> | ((i: number) => number)): NDArray {
  const n = sizeOf(shape);
  const out = new Float64Array(n);
  if (typeof data === 'function') for (let i = 0; i < n; i++) out[i] = data(i);
  else if (data) {
    if (data.length !== n) throw new Error(`nd: ${data.length} values for shape [${shape}]`);
    for (let i = 0; i < n; i++) out[i] = data[i];
  }
  return { shape: [...shape], data: out };
}

/** Row-major flat index → multi-index. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** Multi-index → row-major flat index. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d] + idx[d];
  return i;
}

export function get(x: NDArray, idx: readonly number[]): number {
  return x.data[ravel(idx, x.shape)];
}

/** x read at an index of a larger (broadcast) shape: leading axes dropped, size-1 axes pinned to 0. */
function getBroadcast(x: NDArray, idx: readonly number[]): number {
  const lead = idx.length - x.shape.length;
  return get(x, x.shape.map((d, i) => (d === 1 ? 0 : idx[lead + i])));
}

export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + i] ?? 1;
      if (e !== 1 && d !== 1 && e !== d) throw new Error(`reference: cannot broadcast [${shapes.join('] [')}]`);
      if (e !== 1) d = e;
    }
    out.push(d);
  }
  return out;
}

/** A new array of `shape` whose element at each multi-index is f(index). */
export function build(shape: readonly number[], f: (idx: number[]) => number): NDArray {
  return nd(shape, (i) => f(unravel(i, shape)));
}

function axis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

// ---------- elementwise ----------

export function map(x: NDArray, f: (v: number) => number): NDArray {
  return nd(x.shape, (i) => f(x.data[i]));
}

export function zip(a: NDArray, b: NDArray, f: (x: number, y: number) => number): NDArray {
  const shape = broadcastShape(a.shape, b.shape);
  return build(shape, (idx) => f(getBroadcast(a, idx), getBroadcast(b, idx)));
}

/** erf to ~1e-14: Taylor series for |x| ≤ 3, the erfc continued fraction beyond. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax <= 3) {
    let term = x;
    let total = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n; // (−1)ⁿ x^(2n+1) / n!
      const t = term / (2 * n + 1);
      total += t;
      if (Math.abs(t) < 1e-17 * Math.abs(total)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * total;
  }
  // √π e^{x²} erfc(x) = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
  let f = ax;
  for (let k = 80; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export const unaryFns = {
  neg: (x: number) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x: number) => 1 / Math.sqrt(x),
  tanh: Math.tanh,
  relu: (x: number) => (x > 0 ? x : 0),
  gelu: (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  geluTanh: (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
  sigmoid: (x: number) => 1 / (1 + Math.exp(-x)),
  abs: Math.abs,
  square: (x: number) => x * x,
  erf,
  reciprocal: (x: number) => 1 / x,
  step: (x: number) => (x > 0 ? 1 : 0),
};
export type UnaryName = keyof typeof unaryFns;

export const unary = (name: UnaryName, x: NDArray) => map(x, unaryFns[name]);
export const addScalar = (x: NDArray, s: number) => map(x, (v) => v + s);
export const mulScalar = (x: NDArray, s: number) => map(x, (v) => v * s);
export const powScalar = (x: NDArray, p: number) => map(x, (v) => Math.pow(v, p));

export const binaryFns = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  maximum: (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  minimum: (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
  pow: Math.pow,
  eq: (a: number, b: number) => (a === b ? 1 : 0),
  gt: (a: number, b: number) => (a > b ? 1 : 0),
  ge: (a: number, b: number) => (a >= b ? 1 : 0),
  lt: (a: number, b: number) => (a < b ? 1 : 0),
};
export type BinaryName = keyof typeof binaryFns;

export const binary = (name: BinaryName, a: NDArray, b: NDArray) => zip(a, b, binaryFns[name]);
export const add = (a: NDArray, b: NDArray) => binary('add', a, b);
export const sub = (a: NDArray, b: NDArray) => binary('sub', a, b);
export const mul = (a: NDArray, b: NDArray) => binary('mul', a, b);

export function where(cond: NDArray, a: NDArray, b: NDArray): NDArray {
  const shape = broadcastShape(cond.shape, a.shape, b.shape);
  return build(shape, (idx) => (getBroadcast(cond, idx) !== 0 ? getBroadcast(a, idx) : getBroadcast(b, idx)));
}

export function maskedFill(x: NDArray, mask: NDArray, value: number): NDArray {
  return where(mask, nd([1], [value]), x);
}

// ---------- views and layout ----------

export function reshape(x: NDArray, shape: readonly number[]): NDArray {
  const known = sizeOf(shape.filter((d) => d !== -1));
  const s = shape.map((d) => (d === -1 ? sizeOf(x.shape) / known : d));
  if (sizeOf(s) !== sizeOf(x.shape)) throw new Error('reference reshape: size mismatch');
  return { shape: s, data: x.data.slice() };
}

export function permute(x: NDArray, perm: readonly number[]): NDArray {
  const shape = perm.map((p) => x.shape[p]);
  return build(shape, (idx) => {
    const src = new Array<number>(x.shape.length);
    perm.forEach((p, i) => (src[p] = idx[i]));
    return get(x, src);
  });
}

export function transpose(x: NDArray, a = -2, b = -1): NDArray {
  const perm = [...x.shape.keys()];
  const i = axis(a, x.shape.length);
  const j = axis(b, x.shape.length);
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

export function slice(x: NDArray, ax: number, start: number, end: number): NDArray {
  const a = axis(ax, x.shape.length);
  const shape = x.shape.map((d, i) => (i === a ? end - start : d));
  return build(shape, (idx) => get(x, idx.map((v, i) => (i === a ? v + start : v))));
}

export function expand(x: NDArray, shape: readonly number[]): NDArray {
  return build(shape, (idx) => getBroadcast(x, idx));
}

export function unsqueeze(x: NDArray, ax: number): NDArray {
  const shape = [...x.shape];
  shape.splice(axis(ax, x.shape.length + 1), 0, 1);
  return reshape(x, shape);
}

export function squeeze(x: NDArray, ax: number): NDArray {
  const a = axis(ax, x.shape.length);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

// ---------- reductions ----------

function normAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  return (typeof axes === 'number' ? [axes] : [...axes]).map((a) => axis(a, rank));
}

/** Folds x over `axes` with f, starting from init. */
function reduce(
  x: NDArray, axes: number | readonly number[] | undefined, keepDims: boolean,
  init: number, f: (acc: number, v: number) => number,
): NDArray {
  const ax = normAxes(axes, x.shape.length);
  const keptShape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const out = nd(keptShape).data.fill(init);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, d) => (ax.includes(d) ? 0 : v));
    const o = ravel(idx, keptShape);
    out[o] = f(out[o], x.data[i]);
  }
  const shape = keepDims ? keptShape : x.shape.filter((_, i) => !ax.includes(i));
  return { shape, data: out };
}

type Axes = number | readonly number[] | undefined;
export const sum = (x: NDArray, axes?: Axes, keepDims = false) => reduce(x, axes, keepDims, 0, (a, v) => a + v);
export const max = (x: NDArray, axes?: Axes, keepDims = false) => reduce(x, axes, keepDims, -Infinity, (a, v) => Math.max(a, v));
export const min = (x: NDArray, axes?: Axes, keepDims = false) => reduce(x, axes, keepDims, Infinity, (a, v) => Math.min(a, v));
export function mean(x: NDArray, axes?: Axes, keepDims = false): NDArray {
  const ax = normAxes(axes, x.shape.length);
  const count = sizeOf(ax.map((a) => x.shape[a]));
  return mulScalar(sum(x, axes, keepDims), 1 / count);
}

/** Sums x down to `shape` (the adjoint of broadcasting `shape` to x.shape). */
export function sumTo(x: NDArray, shape: readonly number[]): NDArray {
  const out = nd(shape);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    const lead = idx.length - shape.length;
    out.data[ravel(shape.map((d, j) => (d === 1 ? 0 : idx[lead + j])), shape)] += x.data[i];
  }
  return out;
}

// ---------- matmul ----------

/** op(a)·op(b) over broadcast batch dimensions; op transposes the last two axes when asked. */
export function matmul(a: NDArray, b: NDArray, opts: { transA?: boolean; transB?: boolean } = {}): NDArray {
  const A = opts.transA ? transpose(a) : a;
  const B = opts.transB ? transpose(b) : b;
  const [m, k] = A.shape.slice(-2);
  const [k2, n] = B.shape.slice(-2);
  if (k !== k2) throw new Error('reference matmul: inner dimensions differ');
  const batch = broadcastShape(A.shape.slice(0, -2), B.shape.slice(0, -2));
  return build([...batch, m, n], (idx) => {
    const bi = idx.slice(0, -2);
    const [i, j] = idx.slice(-2);
    let s = 0;
    for (let l = 0; l < k; l++) s += getBroadcast(A, [...bi, i, l]) * getBroadcast(B, [...bi, l, j]);
    return s;
  });
}

// ---------- softmax family ----------

/** Applies f to each row (last axis) of x. */
function rows(x: NDArray, f: (row: number[]) => number[]): NDArray {
  const cols = x.shape[x.shape.length - 1];
  const out = nd(x.shape);
  for (let r = 0; r * cols < x.data.length; r++) {
    const row = Array.from(x.data.subarray(r * cols, (r + 1) * cols));
    out.data.set(f(row), r * cols);
  }
  return out;
}

export function softmax(x: NDArray, mask?: NDArray): NDArray {
  const input = mask ? add(x, mask) : x;
  return rows(input, (row) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m)); // an all −inf row: m = −inf, v − m = NaN
    const s = e.reduce((p, q) => p + q, 0);
    return e.map((v) => v / s);
  });
}

export function logSoftmax(x: NDArray, mask?: NDArray): NDArray {
  const input = mask ? add(x, mask) : x;
  return rows(input, (row) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((p, v) => p + Math.exp(v - m), 0));
    return row.map((v) => v - lse);
  });
}

// ---------- indexing and assembly ----------

/** table [V, ...rest], ids (integer values) → [...ids.shape, ...rest]. */
export function take(table: NDArray, ids: NDArray): NDArray {
  const rest = table.shape.slice(1);
  return build([...ids.shape, ...rest], (idx) => {
    const id = get(ids, idx.slice(0, ids.shape.length));
    return get(table, [id, ...idx.slice(ids.shape.length)]);
  });
}

/** out[i…] = x[i… with axis replaced by idx[i…]] (torch.gather). */
export function gather(x: NDArray, idx: NDArray, ax: number): NDArray {
  const a = axis(ax, x.shape.length);
  return build(idx.shape, (i) => get(x, i.map((v, d) => (d === a ? get(idx, i) : v))));
}

export function concat(xs: NDArray[], ax: number): NDArray {
  const a = axis(ax, xs[0].shape.length);
  const shape = xs[0].shape.map((d, i) => (i === a ? xs.reduce((s, x) => s + x.shape[a], 0) : d));
  return build(shape, (idx) => {
    let pos = idx[a];
    for (const x of xs) {
      if (pos < x.shape[a]) return get(x, idx.map((v, i) => (i === a ? pos : v)));
      pos -= x.shape[a];
    }
    throw new Error('unreachable');
  });
}

export function stack(xs: NDArray[], ax: number): NDArray {
  return concat(xs.map((x) => unsqueeze(x, ax)), ax);
}

/** Zero padding: widths[i] = [before, after] for axis i (missing trailing axes: none). */
export function pad(x: NDArray, widths: readonly (readonly [number, number])[]): NDArray {
  const w = x.shape.map((_, i) => widths[i] ?? [0, 0]);
  const shape = x.shape.map((d, i) => d + w[i][0] + w[i][1]);
  return build(shape, (idx) => {
    const src = idx.map((v, i) => v - w[i][0]);
    return src.every((v, i) => v >= 0 && v < x.shape[i]) ? get(x, src) : 0;
  });
}

// ---------- convolution and nn ----------

/** out[b,h,i,c] = Σ_t w[h,t]·x[b,h,i+t−⌊K/2⌋,c], zero outside [0, n). w is [H,1,K,1] or [H,K]. */
export function depthwiseConv1d(x: NDArray, w: NDArray): NDArray {
  const [, , n] = x.shape;
  const K = w.shape.length === 4 ? w.shape[2] : w.shape[1];
  const p = Math.floor(K / 2);
  return build(x.shape, ([b, h, i, c]) => {
    let s = 0;
    for (let t = 0; t < K; t++) {
      const j = i + t - p;
      if (j >= 0 && j < n) s += w.data[h * K + t] * get(x, [b, h, j, c]);
    }
    return s;
  });
}

/** Over the last axis, biased variance. */
export function layerNorm(x: NDArray, weight?: NDArray, bias?: NDArray, eps = 1e-5): NDArray {
  return rows(x, (row) => {
    const mu = row.reduce((s, v) => s + v, 0) / row.length;
    const variance = row.reduce((s, v) => s + (v - mu) ** 2, 0) / row.length;
    return row.map((v, c) => ((v - mu) / Math.sqrt(variance + eps)) * (weight ? weight.data[c] : 1) + (bias ? bias.data[c] : 0));
  });
}

/** Inverted dropout with a given keep mask (1 kept, 0 dropped). */
export function dropout(x: NDArray, keep: NDArray, p: number): NDArray {
  return zip(x, keep, (v, k) => (v * k) / (1 - p));
}

/** Mean over targets ≠ ignoreIndex of (1−ε)·(−log p[t]) + ε·mean_c(−log p[c]). */
export function crossEntropy(logits: NDArray, targets: NDArray, opts: { ignoreIndex?: number; labelSmoothing?: number } = {}): NDArray {
  const { ignoreIndex = -100, labelSmoothing: eps = 0 } = opts;
  const [N, C] = logits.shape;
  const lp = logSoftmax(logits);
  let total = 0;
  let count = 0;
  for (let i = 0; i < N; i++) {
    const t = targets.data[i];
    if (t === ignoreIndex) continue;
    let smooth = 0;
    for (let c = 0; c < C; c++) smooth -= lp.data[i * C + c] / C;
    total += (1 - eps) * -lp.data[i * C + t] + eps * smooth;
    count++;
  }
  return nd([], [total / count]);
}

export function mseLoss(prediction: NDArray, target: NDArray): NDArray {
  let s = 0;
  for (let i = 0; i < prediction.data.length; i++) s += (prediction.data[i] - target.data[i]) ** 2;
  return nd([], [s / prediction.data.length]);
}

/** mean over elements of −[y·log σ(x) + (1 − y)·log(1 − σ(x))] */
export function binaryCrossEntropyWithLogits(logits: NDArray, targets: NDArray): NDArray {
  let s = 0;
  for (let i = 0; i < logits.data.length; i++) {
    const p = 1 / (1 + Math.exp(-logits.data[i]));
    const y = targets.data[i];
    s -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
  }
  return nd([], [s / logits.data.length]);
}
