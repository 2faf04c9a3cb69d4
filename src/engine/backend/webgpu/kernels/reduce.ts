/**
 * Row reductions as WGSL (the WebAssembly versions: src/engine/kernels/reduce.ts, and sumSquares of
 * src/engine/kernels/optimizers.ts): sum / max / min of rows, column sums, softmax and log-softmax
 * with their gradients, and the running sum of squares.
 *
 * A row is reduced by one workgroup: each invocation folds a strided share of the row, then a
 * tree in workgroup memory combines the shares. Sums fold in blocks (f32 block sums added into an
 * f32 total), so the error grows with the block length plus the number of blocks, not with the
 * row length. WebAssembly keeps its totals in f64; WGSL has no f64, so sums here are float32 with
 * that blocking (agreement to a few float32 roundings, not bit for bit).
 */
import type { GpuKernelTable } from './table.js';
import { shader } from '../shader.js';
import { REDUCE_OPS } from '../../op-codes.js';

/** Invocations per workgroup in every shader here: a power of two (the trees halve it), and at
 *  most what compatibility-mode adapters allow. */
const WG = 128;

/**
 * WGSL helpers: NaN-propagating max / min (WGSL's builtins may return the other operand), the
 * combine of one reduce op, and the workgroup tree `wgReduce` (call it from uniform control flow:
 * it holds barriers).
 */
const TREE = /* wgsl */ `
const OP_SUM: u32 = ${REDUCE_OPS.sum}u;
const OP_MAX: u32 = ${REDUCE_OPS.max}u;
fn isNan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn maxNan(a: f32, b: f32) -> f32 { return select(max(a, b), a + b, isNan(a) || isNan(b)); }
fn minNan(a: f32, b: f32) -> f32 { return select(min(a, b), a + b, isNan(a) || isNan(b)); }
fn combine(op: u32, a: f32, b: f32) -> f32 {
  if (op == OP_SUM) { return a + b; }
  if (op == OP_MAX) { return maxNan(a, b); }
  return minNan(a, b);
}
var<workgroup> tree: array<f32, WG>;
fn wgReduce(op: u32, v: f32, l: u32) -> f32 {
  tree[l] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (l < s) { tree[l] = combine(op, tree[l], tree[l + s]); }
    workgroupBarrier();
  }
  let r = tree[0];
  workgroupBarrier(); // every invocation has read tree[0] before the next call overwrites it
  return r;
}
`;

/** WGSL: \`let <name> = Σ <term(c)>\` over this invocation's columns c = lid, lid + WG, … < cols,
 *  in blocks of 32 terms (f32 block sums, then an f32 total). */
const partialSum = (name: string, term: string) => /* wgsl */ `
  var ${name}_t = 0.0;
  {
    var c = lid.x;
    while (c < p.cols) {
      var blk = 0.0;
      for (var k = 0u; k < 32u && c < p.cols; k++) { blk += ${term}; c += WG; }
      ${name}_t += blk;
    }
  }
  let ${name} = ${name}_t;`;

/** The row's maximum (NaN if any entry is NaN): the row's first entry seeds every share. */
const rowMax = (buf: string) => /* wgsl */ `
  var mx = ${buf}[row];
  for (var c = lid.x; c < p.cols; c += WG) { mx = maxNan(mx, ${buf}[row + c]); }
  let m = wgReduce(OP_MAX, mx, lid.x);`;

/** Body prologue: one workgroup per row r (spare workgroups of the grid leave, uniformly). */
const ROW = /* wgsl */ `
  if (group >= p.rows) { return; }
  let r = group;`;

const reduceRows = shader('reduceRows', {
  buffers: ['x', 'y'],
  params: ['op:u32', 'rows:u32', 'cols:u32'],
  workgroupSize: WG,
  prelude: TREE,
  body: /* wgsl */ `${ROW}
  let row = p.o_x + r * p.cols;
  if (p.cols == 0u) {
    // empty rows: 0, −inf, +inf (built at run time: an infinite constant does not compile)
    let inf = bitcast<f32>(0x7f800000u | select(0u, 0x80000000u, p.op == OP_MAX));
    if (lid.x == 0u) { y[p.o_y + r] = select(inf, 0.0, p.op == OP_SUM); }
    return;
  }
  var v: f32;
  if (p.op == OP_SUM) {
    ${partialSum('s', 'x[row + c]')}
    v = s;
  } else {
    // max / min: the row's first entry is a neutral start for every share
    v = x[row];
    for (var c = lid.x; c < p.cols; c += WG) { v = combine(p.op, v, x[row + c]); }
  }
  let total = wgReduce(p.op, v, lid.x);
  if (lid.x == 0u) { y[p.o_y + r] = total; }`,
});

/** Column sums: a workgroup takes CW adjacent columns (cw ≤ 64, a power of two) and splits the
 *  rows into WG / cw contiguous slices, one invocation per (slice, column); slices sum in blocks of
 *  32 rows, then a tree over the slices. */
const reduceCols = shader('reduceCols', {
  buffers: ['x', 'y'],
  params: ['rows:u32', 'cols:u32', 'cw:u32'],
  workgroupSize: WG,
  prelude: 'var<workgroup> part: array<f32, WG>;',
  body: /* wgsl */ `
  let slices = WG / p.cw;
  let cl = lid.x % p.cw;
  let g = lid.x / p.cw;
  let c = group * p.cw + cl;
  let per = (p.rows + slices - 1u) / slices;
  let r0 = min(p.rows, g * per);
  let r1 = min(p.rows, r0 + per);
  var total = 0.0;
  if (c < p.cols) {
    var r = r0;
    while (r < r1) {
      let re = min(r1, r + 32u);
      var b = 0.0;
      for (; r < re; r++) { b += x[p.o_x + r * p.cols + c]; }
      total += b;
    }
  }
  part[lid.x] = total;
  workgroupBarrier();
  for (var s = slices / 2u; s > 0u; s >>= 1u) {
    if (g < s) { part[lid.x] += part[lid.x + s * p.cw]; }
    workgroupBarrier();
  }
  if (g == 0u && c < p.cols) { y[p.o_y + c] = part[lid.x]; }`,
});

/**
 * A softmax-family forward over rows: m = the row's max, t = Σ_c exp(x − m), then y = out for each
 * column (WGSL in x[row + c], m and t).
 */
function rowForward(name: string, out: string) {
  return shader(name, {
    buffers: ['x', 'y'],
    params: ['rows:u32', 'cols:u32'],
    workgroupSize: WG,
    prelude: TREE,
    body: /* wgsl */ `${ROW}
  let row = p.o_x + r * p.cols;
  let yo = p.o_y + r * p.cols;
  ${rowMax('x')}
  ${partialSum('s', 'exp(x[row + c] - m)')}
  let t = wgReduce(OP_SUM, s, lid.x);
  for (var c = lid.x; c < p.cols; c += WG) { y[yo + c] = ${out}; }`,
  });
}

/** y = exp(x − max) / Σ exp(x − max); an all −inf row gives NaN (−inf − −inf). */
const softmaxRows = rowForward('softmaxRows', 'exp(x[row + c] - m) * (1.0 / t)');

/**
 * A softmax-family backward over rows: t = Σ_c term, then dx = out for each column (WGSL in y[a + c],
 * dy[b + c], and t).
 */
function rowGradient(name: string, term: string, out: string) {
  return shader(name, {
    buffers: ['y', 'dy', 'dx'],
    params: ['rows:u32', 'cols:u32'],
    workgroupSize: WG,
    prelude: TREE,
    body: /* wgsl */ `${ROW}
  let a = p.o_y + r * p.cols;
  let b = p.o_dy + r * p.cols;
  let o = p.o_dx + r * p.cols;
  ${partialSum('s', term)}
  let t = wgReduce(OP_SUM, s, lid.x);
  for (var c = lid.x; c < p.cols; c += WG) { dx[o + c] = ${out}; }`,
  });
}

/** dx = y ⊙ (dy − Σ dy⊙y). */
const softmaxRowsGrad = rowGradient('softmaxRowsGrad', 'dy[b + c] * y[a + c]', 'y[a + c] * (dy[b + c] - t)');

/** y = (x − max) − log Σ exp(x − max). */
const logSoftmaxRows = rowForward('logSoftmaxRows', '(x[row + c] - m) - log(t)');

/** dx = dy − exp(y)·Σ dy (y the log-softmax output). */
const logSoftmaxRowsGrad = rowGradient('logSoftmaxRowsGrad', 'dy[b + c]', 'dy[b + c] - exp(y[a + c]) * t');

/**
 * acc (one float64, as two u32 words, low first) += Σ x². One workgroup: each invocation sums a
 * strided share in blocks, a tree combines them, and the first invocation adds the total to acc.
 * WGSL has no f64: acc is read into float32 (rounded), the sum is float32, and the result is
 * written back as the float64 of that float32, so what accumulates has float32 precision.
 */
const sumSquares = shader('sumSquares', {
  buffers: ['x', 'acc:u32'],
  params: ['n:u32'],
  workgroupSize: WG,
  prelude: /* wgsl */ `${TREE}
/** The f32 nearest the float64 with words (lo, hi): the top 24 significand bits plus the rest. */
fn f64ToF32(lo: u32, hi: u32) -> f32 {
  let sign = hi & 0x80000000u;
  let e = (hi >> 20u) & 0x7ffu;
  let frac = (hi & 0xfffffu) | lo;
  if (e == 0x7ffu) { return bitcast<f32>(sign | 0x7f800000u | select(0u, 0x400000u, frac != 0u)); }
  let ex = i32(e) - 1023;
  if (e == 0u || ex < -150) { return bitcast<f32>(sign); } // zero, or below f32's range
  if (ex > 127) { return bitcast<f32>(sign | 0x7f800000u); }
  let top = f32(0x800000u | ((hi & 0xfffffu) << 3u) | (lo >> 29u)); // 24 bits, exact
  let rest = f32(lo & 0x1fffffffu);
  let v = ldexp(top, ex - 23) + ldexp(rest, ex - 52);
  return select(v, -v, sign != 0u);
}
/** The float64 words (lo, hi) of v (exact: every f32 is a float64). */
fn f32ToF64(v: f32) -> vec2u {
  let b = bitcast<u32>(v);
  let sign = b & 0x80000000u;
  let e = (b >> 23u) & 0xffu;
  var m = b & 0x7fffffu;
  if (e == 0xffu) { return vec2u(m << 29u, sign | 0x7ff00000u | (m >> 3u) | select(0u, 0x80000u, m != 0u)); }
  var e64 = e + 896u; // rebias 127 → 1023
  if (e == 0u) {
    if (m == 0u) { return vec2u(0u, sign); }
    e64 = 897u; // subnormal: normalise
    while ((m & 0x800000u) == 0u) { m <<= 1u; e64 -= 1u; }
    m &= 0x7fffffu;
  }
  return vec2u(m << 29u, sign | (e64 << 20u) | (m >> 3u));
}`,
  body: /* wgsl */ `
  var t = 0.0;
  var k = lid.x;
  while (k < p.n) {
    var b = 0.0;
    for (var j = 0u; j < 32u && k < p.n; j++) { let v = x[p.o_x + k]; b += v * v; k += WG; }
    t += b;
  }
  let total = wgReduce(OP_SUM, t, lid.x);
  if (lid.x == 0u) {
    let w = f32ToF64(f64ToF32(acc[p.o_acc], acc[p.o_acc + 1u]) + total);
    acc[p.o_acc] = w.x;
    acc[p.o_acc + 1u] = w.y;
  }`,
});

/** Smallest power of two ≥ min(v, 64). */
const colWidth = (v: number) => Math.min(64, 2 ** Math.ceil(Math.log2(Math.max(1, v))));

export const REDUCE: Partial<GpuKernelTable> = {
  reduceRows: ([op, x, y, rows, cols], run) => run(reduceRows, [x, y], [op, rows, cols], rows),
  reduceCols: ([x, y, rows, cols], run) => {
    const cw = colWidth(cols);
    run(reduceCols, [x, y], [rows, cols, cw], Math.ceil(cols / cw));
  },
  softmaxRows: ([x, y, rows, cols], run) => run(softmaxRows, [x, y], [rows, cols], rows),
  softmaxRowsGrad: ([y, dy, dx, rows, cols], run) => run(softmaxRowsGrad, [y, dy, dx], [rows, cols], rows),
  logSoftmaxRows: ([x, y, rows, cols], run) => run(logSoftmaxRows, [x, y], [rows, cols], rows),
  logSoftmaxRowsGrad: ([y, dy, dx, rows, cols], run) => run(logSoftmaxRowsGrad, [y, dy, dx], [rows, cols], rows),
  // n = 0 adds nothing: no dispatch, so acc keeps its float64 bits
  sumSquares: ([x, n, acc], run) => {
    if (n > 0) run(sumSquares, [x, acc], [n], 1);
  },
};
