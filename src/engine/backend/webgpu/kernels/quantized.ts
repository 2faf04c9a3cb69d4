/**
 * 8-bit products as WGSL (the WebAssembly version and the arithmetic: src/engine/kernels/quantized.ts):
 * codes travel as u32 words of four bytes, little-endian, as in the arena. The integer sums are
 * exact and equal the CPU's; the float32 steps are the same operations, though WGSL's division
 * may round differently from IEEE's, so a code may differ by one from the CPU's at a rounding edge.
 */
import type { GpuKernelTable } from './table.js';
import { shader } from '../shader.js';

const WG = 64;

/** One invocation per row: its range (holding 0), scale and zero point, then its codes. */
const quantizeRows = shader('quantizeRows', {
  buffers: ['x', 'q:u32', 'params'],
  params: ['rows:u32', 'k:u32', 'kPad:u32'],
  workgroupSize: WG,
  body: /* wgsl */ `
  if (i >= p.rows) { return; }
  let xr = p.o_x + i * p.k;
  var mn = 0.0;
  var mx = 0.0;
  for (var c = 0u; c < p.k; c++) {
    mn = min(mn, x[xr + c]);
    mx = max(mx, x[xr + c]);
  }
  var scale = (mx - mn) / 127.0;
  if (!(scale > 0.0) || scale > 3.4e38) { scale = 1.0; }
  let inv = 1.0 / scale;
  let zero = clamp(round(-mn * inv), 0.0, 127.0);
  params[p.o_params + 2u * i] = scale;
  params[p.o_params + 2u * i + 1u] = zero;
  let words = p.kPad / 4u;
  for (var w = 0u; w < words; w++) {
    var packed = 0u;
    for (var b = 0u; b < 4u; b++) {
      let c = w * 4u + b;
      if (c < p.k) { packed |= u32(clamp(round(x[xr + c] * inv) + zero, 0.0, 127.0)) << (8u * b); }
    }
    q[p.o_q + i * words + w] = packed;
  }`,
});

/** One invocation per output: the integer sum over the packed words, then the float32 epilogue. */
const gemmQ8 = shader('gemmQ8', {
  buffers: ['q:u32', 'params', 'w:u32', 'wScale', 'wSum:i32', 'bias', 'y'],
  params: ['total:u32', 'n:u32', 'kPad:u32'],
  workgroupSize: WG,
  body: /* wgsl */ `
  if (i >= p.total) { return; }
  let r = i / p.n;
  let j = i - r * p.n;
  let words = p.kPad / 4u;
  var acc = 0i;
  for (var t = 0u; t < words; t++) {
    let a = q[p.o_q + r * words + t];
    let b = w[p.o_w + j * words + t];
    for (var s = 0u; s < 32u; s += 8u) {
      // byte s/8 of b as a signed int8: shift it to the top, then arithmetic-shift it down
      acc += i32((a >> s) & 0xffu) * (bitcast<i32>(b << (24u - s)) >> 24u);
    }
  }
  let scale = params[p.o_params + 2u * r];
  let zero = i32(params[p.o_params + 2u * r + 1u]);
  var v = (scale * wScale[p.o_wScale + j]) * f32(acc - zero * wSum[p.o_wSum + j]);
  if (p.o_bias != NONE) { v += bias[p.o_bias + j]; }
  y[p.o_y + i] = v;`,
});

export const QUANTIZED: Partial<GpuKernelTable> = {
  quantizeRows: ([x, q, params, rows, k, kPad], run) => {
    if (rows > 0) run(quantizeRows, [x, q, params], [rows, k, kPad], Math.ceil(rows / WG));
  },
  gemmQ8: ([q, params, w, wScale, wSum, bias, y, m, n, kPad], run) => {
    const total = m * n;
    if (total > 0) run(gemmQ8, [q, params, w, wScale, wSum, bias, y], [total, n, kPad], Math.ceil(total / WG));
  },
};
