/**
 * randomUniform in WGSL: y[i] = (mix(key + (offset + i + 1)·γ) >> 40)·2^-24 with key =
 * streamKey(seed), as ../../../kernels/random.ts, bit for bit (hash.ts emulates the 64-bit
 * arithmetic). offset is unsigned 32-bit and the counter offset + i + 1 runs in 64 bits.
 */
import { shader } from '../shader.js';
import { HASH64 } from './hash.js';
import type { GpuKernelTable } from './table.js';

const WG = 64;

/** dropout: mask[i] = scale where uniform(i) − p > 0, else 0 (counter offset 0); y[i] = x[i]·mask[i] (+ residual[i]). */
const dropout = shader('dropout', {
  buffers: ['x', 'residual', 'mask', 'y'],
  params: ['n:u32', 'seed:u32', 'drop:f32', 'scale:f32'],
  workgroupSize: WG,
  prelude: HASH64,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  let z = h64_stream(h64_streamKey(p.seed), vec2u(i + 1u, 0u));
  let u = f32(z.y >> 8u) * 5.9604644775390625e-8;
  let m = select(0.0, p.scale, u - p.drop > 0.0);
  mask[p.o_mask + i] = m;
  var v = x[p.o_x + i] * m;
  if (p.o_residual != NONE) { v = residual[p.o_residual + i] + v; }
  y[p.o_y + i] = v;`,
});

const uniform = shader('randomUniform', {
  buffers: ['y'],
  params: ['n:u32', 'seed:u32', 'offset:u32'],
  workgroupSize: WG,
  prelude: HASH64,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  let key = h64_streamKey(p.seed);
  let c = h64_add(vec2u(p.offset, 0u), vec2u(i + 1u, 0u));
  let z = h64_stream(key, c);
  // the top 24 bits: exact in f32, times 2^-24 (exact)
  y[p.o_y + i] = f32(z.y >> 8u) * 5.9604644775390625e-8;`,
});

export const RANDOM: Partial<GpuKernelTable> = {
  dropout: ([x, residual, mask, y, n, seed, p, scale], run) => {
    run(dropout, [x, residual, mask, y], [n, seed, p, scale], Math.ceil(n / WG));
  },
  randomUniform: ([y, n, seed, offset], run) => {
    run(uniform, [y], [n, seed, offset], Math.ceil(n / WG));
  },
};
