/**
 * Row gathers and their scatter-add gradients as WGSL (the WebAssembly versions:
 * src/engine/kernels/indexing.ts). Gathers copy 32-bit words (u32), so int32 tables pass through
 * untouched. The gradients add into dx (the caller zeroes it) deterministically: each dx element
 * is owned by one invocation, which adds its contributions in increasing i (or j), the order of
 * the WebAssembly kernels, so the results agree bit for bit and repeated indices accumulate.
 */
import type { GpuKernelTable } from './table.js';
import { shader } from '../shader.js';

const WG = 128;
const groupsFor = (n: number) => Math.ceil(n / WG);

/** y[i, :] = x[idx[i], :], one invocation per element of y. */
const takeRows = shader('takeRows', {
  buffers: ['x:u32', 'idx:i32', 'y:u32'],
  params: ['total:u32', 'rowLen:u32'],
  workgroupSize: WG,
  body: /* wgsl */ `
  if (i >= p.total) { return; }
  let r = i / p.rowLen;
  let c = i - r * p.rowLen;
  y[p.o_y + i] = x[p.o_x + u32(idx[p.o_idx + r]) * p.rowLen + c];`,
});

/** dx[idx[i], :] += dy[i, :]: one invocation per column, scanning i in order (duplicates in idx
 *  then add in a fixed order, with no atomics). */
const takeRowsGrad = shader('takeRowsGrad', {
  buffers: ['dy', 'idx:i32', 'dx'],
  params: ['numIdx:u32', 'rowLen:u32'],
  workgroupSize: WG,
  body: /* wgsl */ `
  if (i >= p.rowLen) { return; }
  for (var k = 0u; k < p.numIdx; k++) {
    let at = p.o_dx + u32(idx[p.o_idx + k]) * p.rowLen + i;
    dx[at] = dx[at] + dy[p.o_dy + k * p.rowLen + i];
  }`,
});

/** y[r, j] = x[r, idx[r, j]], one invocation per element of y. */
const gatherLast = shader('gatherLast', {
  buffers: ['x:u32', 'idx:i32', 'y:u32'],
  params: ['total:u32', 'cols:u32', 'k:u32'],
  workgroupSize: WG,
  body: /* wgsl */ `
  if (i >= p.total) { return; }
  let r = i / p.k;
  y[p.o_y + i] = x[p.o_x + r * p.cols + u32(idx[p.o_idx + i])];`,
});

/** dx[r, idx[r, j]] += dy[r, j]: one invocation per row, j in increasing order. */
const gatherLastGrad = shader('gatherLastGrad', {
  buffers: ['dy', 'idx:i32', 'dx'],
  params: ['rows:u32', 'cols:u32', 'k:u32'],
  workgroupSize: WG,
  body: /* wgsl */ `
  if (i >= p.rows) { return; }
  for (var j = 0u; j < p.k; j++) {
    let o = i * p.k + j;
    let at = p.o_dx + i * p.cols + u32(idx[p.o_idx + o]);
    dx[at] = dx[at] + dy[p.o_dy + o];
  }`,
});

export const INDEXING: Partial<GpuKernelTable> = {
  takeRows: ([x, idx, y, numIdx, rowLen], run) => {
    run(takeRows, [x, idx, y], [numIdx * rowLen, rowLen], groupsFor(numIdx * rowLen));
  },
  takeRowsGrad: ([dy, idx, dx, numIdx, rowLen], run) => {
    run(takeRowsGrad, [dy, idx, dx], [numIdx, rowLen], Math.ceil(rowLen / WG));
  },
  gatherLast: ([x, idx, y, rows, cols, k], run) => {
    run(gatherLast, [x, idx, y], [rows * k, cols, k], groupsFor(rows * k));
  },
  gatherLastGrad: ([dy, idx, dx, rows, cols, k], run) => {
    run(gatherLastGrad, [dy, idx, dx], [rows, cols, k], Math.ceil(rows / WG));
  },
};
