/**
 * Depthwise 1-D convolution along the sequence as WGSL (the WebAssembly version, with the
 * formulas: src/engine/kernels/conv.ts). x, y: [B, H, n, d] contiguous, w: [H, K], odd K,
 * zero padding p = K >> 1 at both ends.
 *   forward      y[b,h,i,c]  = Σ_t w[h,t] · x[b,h,i+t−p,c]
 *   grad input   dx[b,h,j,c] = Σ_t w[h,K−1−t] · dy[b,h,j+t−p,c]   (the same loop, flipped taps)
 *   grad weight  dw[h,t]     = Σ_{b,i,c} dy[b,h,i,c] · x[b,h,i+t−p,c]
 * Taps are summed in increasing t, as in WebAssembly.
 */
import type { GpuKernelTable } from './table.js';
import { shader } from '../shader.js';

const WG = 128;

/** One invocation per output element; taps outside [0, n) are skipped. */
const conv = shader('dwconv', {
  buffers: ['src', 'w', 'out'],
  params: ['total:u32', 'H:u32', 'n:u32', 'd:u32', 'K:u32', 'flip:u32'],
  workgroupSize: WG,
  body: /* wgsl */ `
  if (i >= p.total) { return; }
  let c = i % p.d;
  let row = i / p.d;          // (b·H + h)·n + i
  let bh = row / p.n;
  let at = row - bh * p.n;    // position along the sequence
  let h = bh % p.H;
  let pad = p.K >> 1u;
  // taps t with 0 ≤ at + t − pad < n
  let t0 = select(0u, pad - at, pad > at);
  let t1 = min(p.K, p.n + pad - at);
  let wh = p.o_w + h * p.K;
  var a = 0.0;
  for (var t = t0; t < t1; t++) {
    let tap = select(t, p.K - 1u - t, p.flip != 0u);
    a += w[wh + tap] * src[p.o_src + (row + t - pad) * p.d + c];
  }
  out[p.o_out + i] = a;`,
});

/** dw: one workgroup per (h, t); its invocations share the dot product of the runs
 *  dy[b,h,i0:i1,:] · x[b,h,i0+t−p:i1+t−p,:] over b (blocks of 32 terms, then a tree). */
const gradWeight = shader('dwconvGradWeight', {
  buffers: ['dy', 'x', 'dw'],
  params: ['B:u32', 'H:u32', 'n:u32', 'd:u32', 'K:u32'],
  workgroupSize: WG,
  prelude: 'var<workgroup> tree: array<f32, WG>;',
  body: /* wgsl */ `
  if (group >= p.H * p.K) { return; }
  let h = group / p.K;
  let t = group - h * p.K;
  let pad = p.K >> 1u;
  let i0 = select(0u, pad - t, pad > t);
  let i1 = select(0u, min(p.n, p.n + pad - t), p.n + pad > t); // 0 where the tap misses every row
  let len = select(0u, (i1 - i0) * p.d, i1 > i0);
  var total = 0.0;
  for (var b = 0u; b < p.B; b++) {
    let base = (b * p.H + h) * p.n;
    let g = p.o_dy + (base + i0) * p.d;
    let s = p.o_x + (base + i0 + t - pad) * p.d;
    var k = lid.x;
    while (k < len) {
      var blk = 0.0;
      for (var j = 0u; j < 32u && k < len; j++) { blk += dy[g + k] * x[s + k]; k += WG; }
      total += blk;
    }
  }
  tree[lid.x] = total;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) { tree[lid.x] += tree[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { dw[p.o_dw + group] = tree[0]; }`,
});

export const CONV: Partial<GpuKernelTable> = {
  dwconv: ([x, w, y, B, H, n, d, K], run) => {
    const total = B * H * n * d;
    run(conv, [x, w, y], [total, H, n, d, K, 0], Math.ceil(total / WG));
  },
  dwconvGradInput: ([dy, w, dx, B, H, n, d, K], run) => {
    const total = B * H * n * d;
    run(conv, [dy, w, dx], [total, H, n, d, K, 1], Math.ceil(total / WG));
  },
  // The scratch argument is the CPU kernel's: nothing to do with it here.
  dwconvGradWeight: ([dy, x, dw, B, H, n, d, K], run) => run(gradWeight, [dy, x, dw], [B, H, n, d, K], H * K),
};
