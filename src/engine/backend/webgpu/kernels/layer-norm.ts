/**
 * The fused LayerNorm as WGSL (the WebAssembly version and the formulas: src/engine/kernels/layer-norm.ts),
 * one invocation per row; sums in f32 here (WGSL has no f64), so results differ from the CPU's in the
 * last bits.
 */
import type { GpuKernelTable } from './table.js';
import { shader } from '../shader.js';

const WG = 64;

const forward = shader('layerNormRows', {
  buffers: ['x', 'w', 'b', 'y', 'stats'],
  params: ['rows:u32', 'cols:u32', 'eps:f32'],
  workgroupSize: WG,
  body: /* wgsl */ `
  if (i >= p.rows) { return; }
  let row = p.o_x + i * p.cols;
  var s = 0.0;
  for (var c = 0u; c < p.cols; c++) { s += x[row + c]; }
  let mean = s / f32(p.cols);
  var v = 0.0;
  for (var c = 0u; c < p.cols; c++) { let d = x[row + c] - mean; v += d * d; }
  let rstd = 1.0 / sqrt(v / f32(p.cols) + p.eps);
  stats[p.o_stats + 2u * i] = mean;
  stats[p.o_stats + 2u * i + 1u] = rstd;
  for (var c = 0u; c < p.cols; c++) {
    var t = (x[row + c] - mean) * rstd;
    if (p.o_w != NONE) { t *= w[p.o_w + c]; }
    if (p.o_b != NONE) { t += b[p.o_b + c]; }
    y[p.o_y + i * p.cols + c] = t;
  }`,
});

const backward = shader('layerNormRowsGrad', {
  buffers: ['x', 'w', 'stats', 'dy', 'dx', 'dyXhat'],
  params: ['rows:u32', 'cols:u32'],
  workgroupSize: WG,
  body: /* wgsl */ `
  if (i >= p.rows) { return; }
  let mean = stats[p.o_stats + 2u * i];
  let rstd = stats[p.o_stats + 2u * i + 1u];
  let xr = p.o_x + i * p.cols;
  let gr = p.o_dy + i * p.cols;
  var sg = 0.0;
  var sgx = 0.0;
  for (var c = 0u; c < p.cols; c++) {
    let xhat = (x[xr + c] - mean) * rstd;
    var g = dy[gr + c];
    if (p.o_w != NONE) { g *= w[p.o_w + c]; }
    sg += g;
    sgx += g * xhat;
  }
  let a = sg / f32(p.cols);
  let bx = sgx / f32(p.cols);
  for (var c = 0u; c < p.cols; c++) {
    let xhat = (x[xr + c] - mean) * rstd;
    var g = dy[gr + c];
    if (p.o_w != NONE) { g *= w[p.o_w + c]; }
    dx[p.o_dx + i * p.cols + c] = rstd * (g - a - xhat * bx);
    if (p.o_dyXhat != NONE) { dyXhat[p.o_dyXhat + i * p.cols + c] = dy[gr + c] * xhat; }
  }`,
});

export const LAYER_NORM: Partial<GpuKernelTable> = {
  layerNormRows: ([x, w, b, y, stats, rows, cols, eps], run) => {
    if (rows > 0) run(forward, [x, w, b, y, stats], [rows, cols, eps], Math.ceil(rows / WG));
  },
  layerNormRowsGrad: ([x, w, stats, dy, dx, dyXhat, rows, cols], run) => {
    if (rows > 0) run(backward, [x, w, stats, dy, dx, dyXhat], [rows, cols], Math.ceil(rows / WG));
  },
};
