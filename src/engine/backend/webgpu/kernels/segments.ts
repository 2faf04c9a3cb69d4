/**
 * Landmark pooling as WGSL (the WebAssembly version: src/engine/kernels/segments.ts): m contiguous
 * segments of the n rows of each of BH matrices [n, d]. With s = ⌊n/m⌋ the first
 * short = (s+1)·m − n segments have s rows, the rest s+1 (the same rule as segmentBounds).
 */
import type { GpuKernelTable } from './table.js';
import { shader } from '../shader.js';

const WG = 128;

/** Segment rules in WGSL (m ≥ 1; m ≤ n, so s ≥ 1). */
const RULES = /* wgsl */ `
fn segStart(j: u32, n: u32, m: u32) -> u32 {
  let s = n / m;
  let nShort = (s + 1u) * m - n;
  return select(nShort * s + (j - nShort) * (s + 1u), j * s, j <= nShort);
}
/** The segment of row r. */
fn segOf(r: u32, n: u32, m: u32) -> u32 {
  let s = n / m;
  let nShort = (s + 1u) * m - n;
  if (r < nShort * s) { return r / s; }
  return nShort + (r - nShort * s) / (s + 1u);
}`;

/** y[u, c] = mean of x[b, r0..r1, c] (u = b·m + j), one invocation per element of y, rows in order. */
const segmentMeans = shader('segmentMeans', {
  buffers: ['x', 'y'],
  params: ['total:u32', 'n:u32', 'd:u32', 'm:u32'],
  workgroupSize: WG,
  prelude: RULES,
  body: /* wgsl */ `
  if (i >= p.total) { return; }
  let u = i / p.d;
  let c = i - u * p.d;
  let b = u / p.m;
  let j = u - b * p.m;
  let r0 = segStart(j, p.n, p.m);
  let r1 = segStart(j + 1u, p.n, p.m);
  let base = p.o_x + b * p.n * p.d + c;
  var acc = 0.0;
  for (var r = r0; r < r1; r++) { acc += x[base + r * p.d]; }
  y[p.o_y + i] = acc / f32(r1 - r0);`,
});

/** dx[b, r, c] = dy[b, segment(r), c] / |segment(r)|, one invocation per element of dx. */
const segmentMeansGrad = shader('segmentMeansGrad', {
  buffers: ['dy', 'dx', 'acc'],
  params: ['total:u32', 'n:u32', 'd:u32', 'm:u32'],
  workgroupSize: WG,
  prelude: RULES,
  body: /* wgsl */ `
  if (i >= p.total) { return; }
  let row = i / p.d;
  let c = i - row * p.d;
  let b = row / p.n;
  let r = row - b * p.n;
  let j = segOf(r, p.n, p.m);
  let len = segStart(j + 1u, p.n, p.m) - segStart(j, p.n, p.m);
  var v = dy[p.o_dy + (b * p.m + j) * p.d + c] / f32(len);
  if (p.o_acc != NONE) { v = acc[p.o_acc + i] + v; }
  dx[p.o_dx + i] = v;`,
});

export const SEGMENTS: Partial<GpuKernelTable> = {
  segmentMeans: ([x, y, bh, n, d, m], run) => {
    const total = bh * m * d;
    if (m > 0) run(segmentMeans, [x, y], [total, n, d, m], Math.ceil(total / WG));
  },
  segmentMeansGrad: ([dy, dx, acc, bh, n, d, m], run) => {
    const total = bh * n * d;
    if (m > 0) run(segmentMeansGrad, [dy, dx, acc], [total, n, d, m], Math.ceil(total / WG));
  },
};
