/**
 * The fused softmax attention kernels (../../../kernels/flash-attention.ts) in WGSL, plainly:
 * one invocation per output row and per chunk of DC features, never storing an n×nk matrix.
 *
 *   s = scale·q·kᵀ + bias      P = softmax_j(s)      out = (P ⊙ M)·v
 *
 * - flashForward: per query row, an online softmax over the keys one at a time (a running max m,
 *   l = Σ exp(s − m) of the undropped P, the accumulator rescaled by exp(m − m') when the max grows);
 *   out = acc / l and stats = (m, log l), as the WebAssembly kernel stores them.
 * - flashProbs: one invocation per probability, exp((s − m) − log l).
 * - flashBackwardQuery: delta = D = Σ_c dout·out per row (its own dispatch), then per query row
 *   dq = scale·Σ_j P ⊙ (dP ⊙ M − D)·k_j with dP = dout·v_j.
 * - flashBackwardKey: per key row, looping over the queries: dv = Σ_i (P ⊙ M)·dout_i and
 *   dk = scale·Σ_i dS·q_i, as two dispatches so that no shader binds more than 8 storage buffers
 *   (WebGPU's default limit; dk alone needs eight).
 *
 * The dropout mask M (dropThreshold ≠ 0) is dropScale where the top 32 bits of mix(key + (idx + 1)·γ)
 * are ≥ dropThreshold, key = streamKey(dropSeed), idx = (bh·n + i)·nk + j in 64 bits: the same bits
 * as the WebAssembly kernels (hash.ts). bias (or null) adds bias[(bh / biasStride)·nk + j] to key j.
 * Summation orders differ from the tiled WebAssembly kernels: results agree to float32 rounding.
 * A row whose scores are all −inf is not reproduced (WGSL need not honour infinities); the op
 * never makes one (its mask bias is −1e9).
 */
import { shader, type Shader } from '../shader.js';
import type { RunShader } from '../shader.js';
import type { BufferRef } from '../../buffer.js';
import { HASH64 } from './hash.js';
import type { GpuKernelTable } from './table.js';

const WG = 64;
/** Features one invocation accumulates (private arrays); larger head sizes take several chunks. */
const DC = 64;

const DIMS = ['BH:u32', 'n:u32', 'nk:u32', 'd:u32', 'scale:f32', 'biasStride:u32'];
const DROP = ['dropSeed:u32', 'dropThreshold:u32', 'dropScale:f32'];

/** Helpers over the shader's own buffers: a score needs q, k (and bias when bound). */
const SCORE = /* wgsl */ `
const DC: u32 = ${DC}u;
// a running max's start: finite (WGSL may assume no infinities), below any score the op makes
const LOW: f32 = -3.0e38;

// s = scale·q[row]·k[key] + bias of key j of head-batch bh (row, key: global row indices)
fn score(row: u32, key: u32, bh: u32, j: u32) -> f32 {
  let qa = p.o_q + row * p.d;
  let ka = p.o_k + key * p.d;
  var s = 0.0;
  for (var c = 0u; c < p.d; c++) { s += q[qa + c] * k[ka + c]; }
  s *= p.scale;
  if (p.o_bias != NONE) { s += bias[p.o_bias + (bh / p.biasStride) * p.nk + j]; }
  return s;
}
`;

/** The dropout multiplier of probability (row = bh·n + i, key j): needs HASH64. */
const KEEP = /* wgsl */ `
fn keep(key: vec2u, row: u32, j: u32) -> f32 {
  if (p.dropThreshold == 0u) { return 1.0; }
  let c = h64_add(h64_mul32(row, p.nk), vec2u(j + 1u, 0u)); // idx + 1 = row·nk + j + 1
  return select(0.0, p.dropScale, h64_stream(key, c).y >= p.dropThreshold);
}
fn dropKey() -> vec2u {
  if (p.dropThreshold == 0u) { return vec2u(0u, 0u); }
  return h64_streamKey(p.dropSeed);
}
`;

/** dout[row]·x[xrow] over d features, for x = v (dP) or y = out (D). */
const DOT_DOUT = (x: string) => /* wgsl */ `
fn dot_dout_${x}(row: u32, xrow: u32) -> f32 {
  let a = p.o_dout + row * p.d;
  let b = p.o_${x} + xrow * p.d;
  var s = 0.0;
  for (var c = 0u; c < p.d; c++) { s += dout[a + c] * ${x}[b + c]; }
  return s;
}
`;

/** The invocation's row (of `rows`) and feature chunk [c0, c0 + cw); returns early past the end. */
const CHUNK = (rows: string) => /* wgsl */ `
  let rows = ${rows};
  let chunks = (p.d + DC - 1u) / DC;
  if (i >= rows * chunks) { return; }
  let r = i % rows;
  let c0 = (i / rows) * DC;
  let cw = min(DC, p.d - c0);`;

const forward = shader('flashForward', {
  buffers: ['q', 'k', 'v', 'bias', 'y', 'stats'],
  params: [...DIMS, ...DROP],
  workgroupSize: WG,
  prelude: HASH64 + SCORE + KEEP,
  body: /* wgsl */ `${CHUNK('p.BH * p.n')}
  let bh = r / p.n;
  let kb = bh * p.nk; // the head-batch's first key row
  let key = dropKey();
  var acc: array<f32, DC>;
  var m = LOW;
  var l = 0.0;
  for (var j = 0u; j < p.nk; j++) {
    let s = score(r, kb + j, bh, j);
    if (s > m) {
      let a = exp(m - s);
      l *= a;
      for (var c = 0u; c < cw; c++) { acc[c] *= a; }
      m = s;
    }
    let e = exp(s - m);
    l += e; // l sums the probabilities before dropout
    let w = e * keep(key, r, j);
    if (w != 0.0) {
      let va = p.o_v + (kb + j) * p.d + c0;
      for (var c = 0u; c < cw; c++) { acc[c] += w * v[va + c]; }
    }
  }
  let ya = p.o_y + r * p.d + c0;
  for (var c = 0u; c < cw; c++) { y[ya + c] = acc[c] / l; }
  if (c0 == 0u) {
    stats[p.o_stats + r] = m;
    stats[p.o_stats + rows + r] = log(l);
  }`,
});

const probs = shader('flashProbs', {
  buffers: ['q', 'k', 'bias', 'stats', 'probs'],
  params: [...DIMS, 'total:u32'],
  workgroupSize: WG,
  prelude: SCORE,
  body: /* wgsl */ `
  if (i >= p.total) { return; }
  let rows = p.BH * p.n;
  let r = i / p.nk;
  let j = i % p.nk;
  let bh = r / p.n;
  let s = score(r, bh * p.nk + j, bh, j);
  probs[p.o_probs + i] = exp((s - stats[p.o_stats + r]) - stats[p.o_stats + rows + r]);`,
});

/** delta[row] = D = Σ_c dout·out (one invocation per query row). */
const delta = shader('flashDelta', {
  buffers: ['dout', 'y', 'delta'],
  params: ['rows:u32', 'd:u32'],
  workgroupSize: WG,
  prelude: DOT_DOUT('y'),
  body: /* wgsl */ `
  if (i >= p.rows) { return; }
  delta[p.o_delta + i] = dot_dout_y(i, i);`,
});

const backwardQuery = shader('flashBackwardQuery', {
  buffers: ['q', 'k', 'v', 'bias', 'dout', 'stats', 'delta', 'dq'],
  params: [...DIMS, ...DROP],
  workgroupSize: WG,
  prelude: HASH64 + SCORE + KEEP + DOT_DOUT('v'),
  body: /* wgsl */ `${CHUNK('p.BH * p.n')}
  let bh = r / p.n;
  let kb = bh * p.nk;
  let key = dropKey();
  let m = stats[p.o_stats + r];
  let ll = stats[p.o_stats + rows + r];
  let D = delta[p.o_delta + r];
  var acc: array<f32, DC>;
  for (var j = 0u; j < p.nk; j++) {
    let P = exp((score(r, kb + j, bh, j) - m) - ll);
    let dS = P * (dot_dout_v(r, kb + j) * keep(key, r, j) - D);
    if (dS != 0.0) {
      let ka = p.o_k + (kb + j) * p.d + c0;
      for (var c = 0u; c < cw; c++) { acc[c] += dS * k[ka + c]; }
    }
  }
  let qa = p.o_dq + r * p.d + c0;
  for (var c = 0u; c < cw; c++) { dq[qa + c] = p.scale * acc[c]; }`,
});

/** The key-side loop over queries: P (and its mask) for key row r of head-batch bh. */
const KEY_LOOP_HEAD = /* wgsl */ `${CHUNK('p.BH * p.nk')}
  let bh = r / p.nk;
  let j = r % p.nk;
  let qb = bh * p.n; // the head-batch's first query row
  let key = dropKey();
  let nrows = p.BH * p.n;
  var acc: array<f32, DC>;
  for (var t = 0u; t < p.n; t++) {
    let row = qb + t;
    let P = exp((score(row, r, bh, j) - stats[p.o_stats + row]) - stats[p.o_stats + nrows + row]);
    let M = keep(key, row, j);`;

const backwardValue = shader('flashBackwardValue', {
  buffers: ['q', 'k', 'bias', 'dout', 'stats', 'dv'],
  params: [...DIMS, ...DROP],
  workgroupSize: WG,
  prelude: HASH64 + SCORE + KEEP,
  body: /* wgsl */ `${KEY_LOOP_HEAD}
    let w = P * M; // dv = (P ⊙ M)ᵀ·dout
    if (w != 0.0) {
      let da = p.o_dout + row * p.d + c0;
      for (var c = 0u; c < cw; c++) { acc[c] += w * dout[da + c]; }
    }
  }
  let va = p.o_dv + r * p.d + c0;
  for (var c = 0u; c < cw; c++) { dv[va + c] = acc[c]; }`,
});

const backwardKey = shader('flashBackwardKey', {
  buffers: ['q', 'k', 'v', 'bias', 'dout', 'stats', 'delta', 'dk'],
  params: [...DIMS, ...DROP],
  workgroupSize: WG,
  prelude: HASH64 + SCORE + KEEP + DOT_DOUT('v'),
  body: /* wgsl */ `${KEY_LOOP_HEAD}
    let dS = P * (dot_dout_v(row, r) * M - delta[p.o_delta + row]); // dk = scale·dSᵀ·q
    if (dS != 0.0) {
      let qa = p.o_q + row * p.d + c0;
      for (var c = 0u; c < cw; c++) { acc[c] += dS * q[qa + c]; }
    }
  }
  let ka = p.o_dk + r * p.d + c0;
  for (var c = 0u; c < cw; c++) { dk[ka + c] = p.scale * acc[c]; }`,
});

/** Workgroups for one invocation per (row, feature chunk). */
function groups(rows: number, d: number): number {
  return Math.ceil((rows * Math.ceil(d / DC)) / WG);
}

/** Dispatches a row shader, refusing index ranges that u32 invocation ids cannot cover. */
function runRows(run: RunShader, s: Shader, buffers: (BufferRef | null)[], params: number[], rows: number, d: number): void {
  if (rows * Math.ceil(d / DC) >= 2 ** 32) throw new Error(`webgpu: ${s.name} over ${rows} rows is too large for one dispatch`);
  run(s, buffers, params, groups(rows, d));
}

export const ATTENTION: Partial<GpuKernelTable> = {
  flashForward: ([q, k, v, bias, out, stats, BH, n, nk, d, scale, biasStride, dropSeed, dropThreshold, dropScale], run) => {
    runRows(run, forward, [q, k, v, bias, out, stats], [BH, n, nk, d, scale, biasStride, dropSeed, dropThreshold, dropScale], BH * n, d);
  },
  flashProbs: ([q, k, bias, stats, out, BH, n, nk, d, scale, biasStride], run) => {
    const total = BH * n * nk;
    if (total >= 2 ** 32) throw new Error(`webgpu: flashProbs of ${total} probabilities is too large for one dispatch`);
    run(probs, [q, k, bias, stats, out], [BH, n, nk, d, scale, biasStride, total], Math.ceil(total / WG));
  },
  flashBackwardQuery: ([q, k, v, bias, out, dout, stats, deltaBuf, dq, BH, n, nk, d, scale, biasStride, ...drop], run) => {
    run(delta, [dout, out, deltaBuf], [BH * n, d], Math.ceil((BH * n) / WG));
    if (dq) runRows(run, backwardQuery, [q, k, v, bias, dout, stats, deltaBuf, dq], [BH, n, nk, d, scale, biasStride, ...drop.slice(0, 3)], BH * n, d);
  },
  flashBackwardKey: ([q, k, v, bias, dout, stats, deltaBuf, dk, dv, BH, n, nk, d, scale, biasStride, ...drop], run) => {
    const params = [BH, n, nk, d, scale, biasStride, ...drop.slice(0, 3)];
    if (dv) runRows(run, backwardValue, [q, k, bias, dout, stats, dv], params, BH * nk, d);
    if (dk) runRows(run, backwardKey, [q, k, v, bias, dout, stats, deltaBuf, dk], params, BH * nk, d);
  },
};
