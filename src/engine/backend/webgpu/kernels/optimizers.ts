/**
 * The optimizer updates in WGSL (AdamW, SGD with momentum): the WebAssembly kernels' formulas
 * (kernels/optimizers.ts), element by element in the same order of operations, but in float32
 * (WGSL has no f64): results agree to a few float32 roundings, not bit for bit. One dispatch per
 * tensor of the list, each over that tensor's elements.
 */
import type { BufferRef } from '../../buffer.js';
import { shader } from '../shader.js';
import type { GpuKernelTable } from './table.js';

const WG = 256;

/** m, v ← moments of g·gradScale; w ← w·shrink − lr·(m/c1)/(√(v/c2) + eps). */
const ADAMW = shader('adamw', {
  buffers: ['w', 'g', 'm', 'v'],
  params: ['n:u32', 'gradScale:f32', 'lr:f32', 'beta1:f32', 'oneMinusBeta1:f32', 'beta2:f32', 'oneMinusBeta2:f32', 'c1:f32', 'c2:f32', 'eps:f32', 'shrink:f32'],
  workgroupSize: WG,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  let gi = g[p.o_g + i] * p.gradScale;
  let mi = p.beta1 * m[p.o_m + i] + p.oneMinusBeta1 * gi;
  let vi = p.beta2 * v[p.o_v + i] + p.oneMinusBeta2 * gi * gi;
  m[p.o_m + i] = mi;
  v[p.o_v + i] = vi;
  w[p.o_w + i] = w[p.o_w + i] * p.shrink - (p.lr * (mi / p.c1)) / (sqrt(vi / p.c2) + p.eps);
`,
});

/** d = g·gradScale + decay·w; with a momentum buffer d = buf = momentum·buf + d; w ← w − lr·d. */
const SGD = shader('sgd', {
  buffers: ['w', 'g', 'buf'],
  params: ['n:u32', 'gradScale:f32', 'lr:f32', 'momentum:f32', 'weightDecay:f32'],
  workgroupSize: WG,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  var d = g[p.o_g + i] * p.gradScale + p.weightDecay * w[p.o_w + i];
  if (p.o_buf != NONE) {
    d = p.momentum * buf[p.o_buf + i] + d;
    buf[p.o_buf + i] = d;
  }
  w[p.o_w + i] = w[p.o_w + i] - p.lr * d;
`,
});

/** A buffer every update needs; the WebAssembly kernel has no null check there either. */
function required(list: readonly (BufferRef | null)[], t: number, what: string): BufferRef {
  const ref = list[t];
  if (!ref) throw new Error(`webgpu: ${what}: tensor ${t} of the list is null`);
  return ref;
}

export const OPTIMIZERS: Partial<GpuKernelTable> = {
  adamw: ([ws, gs, ms, vs, sizes, decays, count, , gradScale, lr, beta1, beta2, c1, c2, eps, shrink], run) => {
    for (let t = 0; t < count; t++) {
      const n = sizes[t];
      if (n <= 0) continue;
      const bufs = [required(ws, t, 'adamw w'), required(gs, t, 'adamw g'), required(ms, t, 'adamw m'), required(vs, t, 'adamw v')];
      // 1 − β computed here in float64: in float32, 1 − fround(0.999) is off by 1e-5 relative.
      run(ADAMW, bufs, [n, gradScale, lr, beta1, 1 - beta1, beta2, 1 - beta2, c1, c2, eps, decays[t] !== 0 ? shrink : 1], Math.ceil(n / WG));
    }
  },
  sgd: ([ws, gs, bufs, sizes, count, , gradScale, lr, momentum, weightDecay], run) => {
    for (let t = 0; t < count; t++) {
      const n = sizes[t];
      if (n <= 0) continue;
      // A null momentum buffer: plain SGD for that tensor, as in the WebAssembly kernel.
      run(SGD, [required(ws, t, 'sgd w'), required(gs, t, 'sgd g'), bufs[t] ?? null], [n, gradScale, lr, momentum, weightDecay], Math.ceil(n / WG));
    }
  },
};
