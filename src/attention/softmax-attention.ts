/**
 * Exact softmax attention, fused: per batch element b and head h,
 *
 *   out = softmax(Q·Kᵀ/√d + (1 − mask)·(−1e9))·V
 *
 * computed tile by tile with an online softmax (kernels/flash-attention.ts), so neither the
 * forward nor the hand-written backward ever holds an n×n matrix: working memory is O(n·d).
 * The unfused composition (matmul, mulScalar, add, softmax, matmul) is the test reference.
 *
 * Shapes: B batch, H heads, n queries, nk keys (nk = n for self-attention), d head size;
 * q (B, H, n, d); k, v (B, H, nk, d); mask (B, nk); out (B, H, n, d); probabilities (B, H, n, nk).
 *
 * Masking: a masked key gets probability 0 wherever its row has an unmasked key. A row whose keys
 * are all masked attends uniformly over them (all scores become −1e9), finite as in PyTorch with a
 * −1e9 mask. Called directly, the op refuses NaN / ±Infinity inputs (NonFiniteError); inside a model
 * (engine/checks.ts) it skips that read, and they propagate to the model's one output check.
 */
import { checkFinite, checkMask } from './validate.js';
import { addScalar, contiguous, fmt, mulScalar, noGrad, record, Tensor, tidy } from '../engine/index.js';
import { empty, run, withContiguous } from '../engine/ops/kernel.js';
import { streamWords } from '../engine/random-stream.js';

export interface SoftmaxAttentionOptions {
  /** Key-padding mask (B, nk), float32 of 0 (padding) / 1 (token). */
  mask?: Tensor;
  /**
   * Dropout on the probabilities (training): each is zeroed with probability p, the rest scaled by
   * 1/(1 − p), the mask a function of (seed, b, h, i, j) regenerated in the backward (attentionDropoutKeep
   * computes it for tests). softmaxAttentionWithProbs returns the probabilities before dropout.
   */
  dropout?: { p: number; seed: number };
}

/** The additive score for a masked key (as the original Nyströmformer code and HF's −1e9 masks). */
const MASK_NEG = -1e9;
/** Largest n (and nk) for which softmaxAttentionWithProbs materialises the n×nk probabilities. */
export const MAX_PROBS_LENGTH = 4096;
/** Queries and keys per kernel tile (T in flash-attention.ts). */
const TILE = 64;

/** Scratch bytes per thread of the flash kernels for head size d (mirrors needBytes there). */
function workBytes(d: number): number {
  return (6 * TILE * d + 2 * TILE * TILE + 4 * TILE) * 4 + 64;
}

/** softmax(QKᵀ/√d + mask bias)·V, differentiable w.r.t. q, k and v. */
export function softmaxAttention(q: Tensor, k: Tensor, v: Tensor, options: SoftmaxAttentionOptions = {}): Tensor {
  return attend('softmaxAttention', q, k, v, options, false).out;
}

/**
 * softmaxAttention that also returns the attention probabilities (B, H, n, nk), for inspection
 * and heat maps: only for n, nk ≤ 4096. `attention` is detached (no gradient flows through it);
 * `out` is differentiable as in softmaxAttention.
 */
export function softmaxAttentionWithProbs(
  q: Tensor, k: Tensor, v: Tensor, options: SoftmaxAttentionOptions = {},
): { out: Tensor; attention: Tensor } {
  const r = attend('softmaxAttentionWithProbs', q, k, v, options, true);
  return { out: r.out, attention: r.attention! };
}

interface Dims { B: number; H: number; n: number; nk: number; d: number }

/** The kernels' (seed, threshold = p·2³², scale = 1/(1 − p)); threshold 0: no dropout. */
function dropoutArgs(op: string, dropout: SoftmaxAttentionOptions['dropout']): [number, number, number] {
  if (!dropout || dropout.p === 0) return [0, 0, 1];
  const { p, seed } = dropout;
  if (!(p >= 0 && p < 1)) throw new Error(`${op}: dropout p must be in [0, 1), got ${p}`);
  if (!Number.isInteger(seed)) throw new Error(`${op}: dropout seed must be an integer, got ${seed}`);
  return [seed | 0, Math.max(1, Math.min(2 ** 32 - 1, Math.round(p * 2 ** 32))), 1 / (1 - p)];
}

/**
 * The multipliers attention dropout applies to the probabilities (B·H, n, nk), row-major: 1/(1 − p) where
 * kept, 0 where dropped — the same mask the kernels regenerate (a reference for tests).
 */
export function attentionDropoutKeep(p: number, seed: number, BH: number, n: number, nk: number): Float32Array {
  const [, threshold, keepScale] = dropoutArgs('attentionDropoutKeep', { p, seed });
  const out = new Float32Array(BH * n * nk);
  streamWords(seed, 0, out.length, (i, word) => (out[i] = word >= threshold ? keepScale : 0));
  return out;
}

function check(op: string, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | undefined): Dims {
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (t.rank !== 4) throw new Error(`${op}: ${name} must be (B, H, n, d), got ${fmt(t.shape)}`);
    if (t.dtype !== 'float32') throw new Error(`${op}: ${name} must be float32, got ${t.dtype} ${fmt(t.shape)}`);
  }
  const [B, H, n, d] = q.shape;
  const nk = k.shape[2];
  const same = (t: Tensor) => t.shape[0] === B && t.shape[1] === H && t.shape[2] === nk && t.shape[3] === d;
  if (!same(k) || !same(v)) {
    throw new Error(`${op}: k and v must be (B, H, nk, d) = [${B}, ${H}, nk, ${d}] with the same nk, given q ${fmt(q.shape)}, got k ${fmt(k.shape)} and v ${fmt(v.shape)}`);
  }
  if (B * H * n * d === 0 || nk === 0) {
    throw new Error(`${op}: needs non-empty inputs, got q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`);
  }
  if (mask) checkMask(op, mask, B, nk, 'nk');
  checkFinite(op, { q, k, v });
  return { B, H, n, nk, d };
}

function attend(
  op: string, q: Tensor, k: Tensor, v: Tensor, options: SoftmaxAttentionOptions, withProbs: boolean,
): { out: Tensor; attention: Tensor | null } {
  const { mask } = options;
  const { B, H, n, nk, d } = check(op, q, k, v, mask);
  const drop = dropoutArgs(op, options.dropout);
  if (withProbs && (n > MAX_PROBS_LENGTH || nk > MAX_PROBS_LENGTH)) {
    throw new Error(`${op}: the attention probabilities are n×nk = ${n}×${nk}; only returned for n, nk ≤ ${MAX_PROBS_LENGTH} (use softmaxAttention, which never forms them)`);
  }
  const BH = B * H;
  const scale = 1 / Math.sqrt(d);
  const flops = 4 * BH * n * nk * d; // S = q·kᵀ and P·v
  // bias (B, nk) = (mask − 1)·1e9: 0 for tokens, −1e9 for padding
  const bias = mask ? noGrad(() => tidy(() => mulScalar(addScalar(contiguous(mask), -1), -MASK_NEG))) : null;
  const out = empty(q.shape);
  const stats = empty([2, BH * n]); // row max m and log Σ exp(s − m): lse = m + log l
  const dims = [BH, n, nk, d, scale, H, workBytes(d)] as const; // the flash kernels' shared tail
  const dropDims = [BH, n, nk, d, scale, H, ...drop, workBytes(d)] as const; // the same, for the kernels that drop
  withContiguous([q, k, v], (qc, kc, vc) => {
    run('flashForward', [qc, kc, vc, bias, out, stats, ...dropDims], flops);
  });
  let attention: Tensor | null = null;
  if (withProbs) {
    attention = empty([B, H, n, nk]);
    const a = attention;
    withContiguous([q, k], (qc, kc) => {
      run('flashProbs', [qc, kc, bias, stats, a, ...dims], flops / 2);
    });
  }
  // D = rowsum(dout ⊙ out);  dS = P ⊙ (dout·vᵀ − D);  dq = dS·k/√d;  dk = dSᵀ·q/√d;  dv = Pᵀ·dout
  record(out, 'softmaxAttention', [q, k, v], (dout) => {
    const dq = q.requiresGrad ? empty(q.shape) : null;
    const dk = k.requiresGrad ? empty(k.shape) : null;
    const dv = v.requiresGrad ? empty(v.shape) : null;
    const delta = empty([BH * n]);
    try {
      withContiguous([q, k, v, dout], (qc, kc, vc, dc) => {
        run('flashBackwardQuery', [qc, kc, vc, bias, out, dc, stats, delta, dq, ...dropDims], dq ? 1.5 * flops : BH * n * d);
        if (dk || dv) {
          run('flashBackwardKey', [qc, kc, vc, bias, dc, stats, delta, dk, dv, ...dropDims], 2 * flops);
        }
      });
    } finally {
      delta.dispose();
    }
    return [dq, dk, dv];
  });
  // stats and bias live as long as the caller's scope when backward may need them
  if (!out.node) {
    stats.dispose();
    bias?.dispose();
  }
  return { out, attention };
}
