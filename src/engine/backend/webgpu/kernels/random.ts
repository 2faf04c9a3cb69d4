/**
 * randomUniform in WGSL: y[i] = (mix(key + (offset + i + 1)·γ) >> 40)·2^-24 with key =
 * streamKey(seed), as ../../../kernels/random.ts, bit for bit (hash.ts emulates the 64-bit
 * arithmetic). offset is unsigned 32-bit and the counter offset + i + 1 runs in 64 bits.
 */
import { shader } from '../shader.js';
import { HASH64 } from './hash.js';
import type { GpuKernelTable } from './table.js';

const WG = 64;

/** Whether dropout keeps element e: uniform(e) − drop > 0 (counter offset 0), as random.ts's dropout;
 *  and element e's output, x[e]·m (+ residual[e]) with m = scale if kept, else 0. */
const KEEP = /* wgsl */ `
fn kept(key: vec2u, e: u32, drop: f32) -> bool {
  let z = h64_stream(key, vec2u(e + 1u, 0u));
  return f32(z.y >> 8u) * 5.9604644775390625e-8 - drop > 0.0;
}
fn dropOne(e: u32, keep: bool) {
  var v = x[p.o_x + e] * select(0.0, p.scale, keep);
  if (p.o_residual != NONE) { v = residual[p.o_residual + e] + v; }
  y[p.o_y + e] = v;
}`;

/** dropout without a mask: y[i] = x[i]·m (+ residual[i]), m = scale where element i is kept, else 0. */
const dropout = shader('dropout', {
  buffers: ['x', 'residual', 'y'],
  params: ['n:u32', 'seed:u32', 'drop:f32', 'scale:f32'],
  workgroupSize: WG,
  prelude: HASH64 + KEEP,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  dropOne(i, kept(h64_streamKey(p.seed), i, p.drop));`,
});

/** dropout keeping its mask: invocation w does elements 32w … 32w + 31 and writes their keep bits as mask word w. */
const dropoutBits = shader('dropoutBits', {
  buffers: ['x', 'residual', 'mask:u32', 'y'],
  params: ['n:u32', 'seed:u32', 'drop:f32', 'scale:f32'],
  workgroupSize: WG,
  prelude: HASH64 + KEEP,
  body: /* wgsl */ `
  if (i >= (p.n + 31u) / 32u) { return; }
  let key = h64_streamKey(p.seed);
  var bits = 0u;
  for (var e = i * 32u; e < min(p.n, i * 32u + 32u); e++) {
    let keep = kept(key, e, p.drop);
    dropOne(e, keep);
    if (keep) { bits = bits | (1u << (e % 32u)); }
  }
  mask[p.o_mask + i] = bits;`,
});

/** dx[i] = dy[i]·m, m = scale where bit i of the mask dropoutBits wrote is set, else 0. */
const dropoutGrad = shader('dropoutGrad', {
  buffers: ['dy', 'mask:u32', 'dx'],
  params: ['n:u32', 'scale:f32'],
  workgroupSize: WG,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  let keep = ((mask[p.o_mask + i / 32u] >> (i % 32u)) & 1u) != 0u;
  dx[p.o_dx + i] = dy[p.o_dy + i] * select(0.0, p.scale, keep);`,
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
    if (mask) run(dropoutBits, [x, residual, mask, y], [n, seed, p, scale], Math.ceil(Math.ceil(n / 32) / WG));
    else run(dropout, [x, residual, y], [n, seed, p, scale], Math.ceil(n / WG));
  },
  dropoutGrad: ([dy, mask, dx, n, scale], run) => {
    run(dropoutGrad, [dy, mask, dx], [n, scale], Math.ceil(n / WG));
  },
  randomUniform: ([y, n, seed, offset], run) => {
    run(uniform, [y], [n, seed, offset], Math.ceil(n / WG));
  },
};
