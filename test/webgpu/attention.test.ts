/**
 * The fused softmax attention kernels on WebGPU against WebAssembly: the public op's output and
 * its gradients w.r.t. q, k, v (self- and cross-attention, n not a multiple of anything, head
 * sizes 8, 32 and 72 — above the shader's 64-feature chunk), with a key-padding mask (a fully
 * masked batch element included), with dropout (the same seed must give the same mask, else the
 * outputs would differ by whole probabilities), the probabilities of softmaxAttentionWithProbs,
 * and the four kernels called directly with an arbitrary bias and biasStride.
 *
 * Tolerances are relative to each output's max |value|: the WGSL kernels sum in a different order
 * than the tiled WebAssembly ones (keys one at a time, no fused multiply-add), so results agree to
 * float32 rounding grown by the sums over d and nk; gradients subtract D from dP (cancellation),
 * hence the looser bound there.
 */
import { before, describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { attentionDropoutKeep, softmaxAttention, softmaxAttentionWithProbs, type SoftmaxAttentionOptions } from '../../src/attention/softmax-attention.js';
import { GPU_KERNELS } from '../../src/engine/backend/webgpu/kernels/index.js';
import { assertCloseScaled, readTensors as readAll, Rng } from '../check.js';
import { matchesWasm, onBackend, webgpuBackend } from './backends.js';

let gpu: E.WebGpuBackend | string;
before(async () => (gpu = await webgpuBackend()));

/** Forward values and probabilities: float32, another summation order (llvmpipe: errors ≤ 5e-7). */
const TOL_OUT = 5e-6;
/** Gradients: as above, plus the cancellation in dP − D (llvmpipe: errors ≤ 6e-7). */
const TOL_GRAD = 2e-5;

function host(rng: Rng, shape: number[], low = -1, high = 1): E.Tensor {
  return E.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(low, high)), shape);
}

/** A (B, nk) mask: batch 0 unpadded, batch b its last b·nk/(B+1) keys padded; `allMasked` batch fully padded. */
function paddingMask(B: number, nk: number, allMasked = -1): E.Tensor {
  const m = new Float32Array(B * nk).fill(1);
  for (let b = 1; b < B; b++) for (let j = nk - Math.floor((b * nk) / (B + 1)); j < nk; j++) m[b * nk + j] = 0;
  if (allMasked >= 0) m.fill(0, allMasked * nk, (allMasked + 1) * nk);
  return E.tensor(m, [B, nk]);
}

interface Case {
  B: number; H: number; n: number; nk: number; d: number;
  mask?: boolean; dropout?: { p: number; seed: number }; probs?: boolean;
}

/** The op's output, gradients of q, k, v (and probabilities), from host data seeded by the case. */
function attention(c: Case): () => E.Tensor[] {
  return () => {
    const rng = new Rng(c.B * 1000 + c.n * 31 + c.nk * 7 + c.d);
    const q = host(rng, [c.B, c.H, c.n, c.d], -2, 2);
    const k = host(rng, [c.B, c.H, c.nk, c.d], -2, 2);
    const v = host(rng, [c.B, c.H, c.nk, c.d]);
    const dout = host(rng, [c.B, c.H, c.n, c.d]);
    for (const t of [q, k, v]) t.requiresGrad = true;
    const options: SoftmaxAttentionOptions = {};
    if (c.mask) options.mask = paddingMask(c.B, c.nk, c.B > 2 ? c.B - 1 : -1);
    if (c.dropout) options.dropout = c.dropout;
    // checkedBoundary: no host-reading input checks (WebGPU cannot read synchronously)
    return E.checkedBoundary(() => {
      const r = c.probs ? softmaxAttentionWithProbs(q, k, v, options) : { out: softmaxAttention(q, k, v, options), attention: null };
      const grads = E.gradients([r.out], [q, k, v], [dout]);
      return [r.out, ...grads, ...(r.attention ? [r.attention] : [])];
    });
  };
}

function label(c: Case): string {
  return `B${c.B} H${c.H} n${c.n} nk${c.nk} d${c.d}${c.mask ? ' mask' : ''}${c.dropout ? ` dropout ${c.dropout.p}` : ''}${c.probs ? ' probs' : ''}`;
}

/** Forward outputs (and probabilities) within TOL_OUT, the three gradients within TOL_GRAD. */
async function check(g: E.Backend, c: Case): Promise<void> {
  const got = await matchesWasm(label(c), attention(c), TOL_GRAD, g);
  // the forward values again, at the tighter bound
  const expected = await readAll(E.tidy(attention(c)));
  assertCloseScaled(got[0], expected[0], TOL_OUT, `${label(c)}: out`);
  if (c.probs) assertCloseScaled(got[4], expected[4], TOL_OUT, `${label(c)}: probabilities`);
}

/** Scratch bytes per thread of the WebAssembly flash kernels (softmax-attention.ts's workBytes). */
const work = (d: number) => (6 * 64 * d + 2 * 64 * 64 + 4 * 64) * 4 + 64;

/** The four kernels called directly, with a random bias of (BH / biasStride, nk). */
function kernels(BH: number, n: number, nk: number, d: number, biasStride: number, drop: [number, number, number]): () => E.Tensor[] {
  return () => {
    const rng = new Rng(BH + n + nk + d + biasStride);
    const q = host(rng, [BH, n, d], -2, 2), k = host(rng, [BH, nk, d], -2, 2), v = host(rng, [BH, nk, d]);
    const dout = host(rng, [BH, n, d]);
    const bias = biasStride > 0 ? host(rng, [BH / biasStride, nk], -3, 3) : null;
    const out = E.empty([BH, n, d]), stats = E.empty([2, BH * n]), probs = E.empty([BH, n, nk]);
    const delta = E.empty([BH * n]), dq = E.empty([BH, n, d]), dk = E.empty([BH, nk, d]), dv = E.empty([BH, nk, d]);
    const scale = 1 / Math.sqrt(d), stride = Math.max(1, biasStride);
    const dims = [BH, n, nk, d, scale, stride, ...drop, work(d)] as const;
    E.runKernel('flashForward', [q, k, v, bias, out, stats, ...dims], 0);
    E.runKernel('flashProbs', [q, k, bias, stats, probs, BH, n, nk, d, scale, stride, work(d)], 0);
    E.runKernel('flashBackwardQuery', [q, k, v, bias, out, dout, stats, delta, dq, ...dims], 0);
    E.runKernel('flashBackwardKey', [q, k, v, bias, dout, stats, delta, dk, dv, ...dims], 0);
    return [out, stats, probs, delta, dq, dk, dv];
  };
}

describe('webgpu softmax attention', () => {
  test('self-attention, n = 37, d = 8 and 32: output and gradients', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await check(gpu, { B: 2, H: 2, n: 37, nk: 37, d: 8 });
    await check(gpu, { B: 1, H: 3, n: 37, nk: 37, d: 32 });
    await check(gpu, { B: 1, H: 1, n: 1, nk: 1, d: 8 });
  });

  test('cross-attention, nk ≠ n (11 keys, 70 keys), and d = 72 (two feature chunks)', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await check(gpu, { B: 2, H: 2, n: 37, nk: 11, d: 8 });
    await check(gpu, { B: 1, H: 2, n: 13, nk: 70, d: 32 });
    await check(gpu, { B: 1, H: 2, n: 19, nk: 23, d: 72 });
  });

  test('dropout: the same seed gives the same mask and gradients', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await check(gpu, { B: 2, H: 2, n: 37, nk: 37, d: 8, dropout: { p: 0.3, seed: 11 } });
    await check(gpu, { B: 1, H: 2, n: 37, nk: 11, d: 32, dropout: { p: 0.1, seed: -123456 } });
    await check(gpu, { B: 1, H: 1, n: 9, nk: 21, d: 72, dropout: { p: 0.5, seed: 2 ** 31 - 1 } });
  });

  test('dropout mask bit for bit: uniform attention over one-hot values reads the mask out', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    // q = 0: every probability is 1/nk; v = identity (nk = d): out[i][c] = M[i][c] / nk
    const B = 2, H = 2, n = 37, nk = 16, p = 0.4, seed = 99;
    const eye = new Float32Array(B * H * nk * nk);
    for (let b = 0; b < B * H; b++) for (let j = 0; j < nk; j++) eye[(b * nk + j) * nk + j] = 1;
    const [out] = await onBackend(gpu, () => readAll(E.tidy(() => E.checkedBoundary(() => {
      const q = E.tensor(new Float32Array(B * H * n * nk), [B, H, n, nk]), k = E.tensor(eye, [B, H, nk, nk]), v = E.tensor(eye, [B, H, nk, nk]);
      return [softmaxAttention(q, k, v, { dropout: { p, seed } })];
    }))));
    const keep = attentionDropoutKeep(p, seed, B * H, n, nk);
    assertCloseScaled(out.map((x: number) => x * nk), keep, 1e-6, 'dropout mask');
  });

  test('the four kernels with an arbitrary bias, biasStride 1 and 2, no bias, dropout', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const noDrop: [number, number, number] = [0, 0, 1];
    await matchesWasm('kernels bias stride 1', kernels(4, 37, 37, 8, 1, noDrop), TOL_GRAD, gpu);
    await matchesWasm('kernels bias stride 2', kernels(4, 21, 11, 32, 2, noDrop), TOL_GRAD, gpu);
    await matchesWasm('kernels no bias', kernels(3, 37, 11, 8, 0, noDrop), TOL_GRAD, gpu);
    // threshold = 0.25·2^32, scale 1/(1 − 0.25)
    await matchesWasm('kernels bias and dropout', kernels(4, 29, 37, 32, 2, [-7, 2 ** 30, 1 / 0.75]), TOL_GRAD, gpu);
  });

  test('with a key-padding mask (a fully masked batch element included), and probabilities', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    // the op turns the mask into a bias with the elementwise kernels (another file's WGSL)
    if (!GPU_KERNELS.unary) return t.skip('needs the WGSL elementwise kernels (unary) for the mask bias');
    await check(gpu, { B: 3, H: 2, n: 37, nk: 37, d: 8, mask: true });
    await check(gpu, { B: 3, H: 2, n: 37, nk: 11, d: 32, mask: true, probs: true });
    await check(gpu, { B: 2, H: 2, n: 37, nk: 37, d: 8, mask: true, dropout: { p: 0.2, seed: 5 } });
  });

  test('softmaxAttentionWithProbs without a mask', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await check(gpu, { B: 1, H: 2, n: 37, nk: 37, d: 8, probs: true });
    await check(gpu, { B: 2, H: 1, n: 37, nk: 11, d: 32, probs: true });
  });
});
