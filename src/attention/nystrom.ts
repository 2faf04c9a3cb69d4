/**
 * Nyström attention (Xiong et al. 2021; docs/algorithm.md §1), per batch element b and head h:
 *
 *   Q' = (Q ⊙ mask)/d^¼,  K' = (K ⊙ mask)/d^¼          landmarks Q̃ = P·Q', K̃ = P·K' (segment means)
 *   F = softmax(Q'K̃ᵀ)   A = softmax(Q̃K̃ᵀ)   B = softmax(Q̃K'ᵀ − 1e9·(1 − mask))
 *   Z ≈ A⁺ by the iteration Z ← ¼Z(13I − AZ(15I − AZ(7I − AZ))), Z₀ = Aᵀ/c
 *   out = F·(Z·(B·V)) + DWConv(V ⊙ mask)      (the official code's (F·Z)·(B·V), associated the cheaper way)
 *
 * Shapes: B batch, H heads, n tokens, d head size, m landmarks; F (B,H,n,m), B (B,H,m,n),
 * A, Z (B,H,m,m). No n×n tensor is ever formed: time and memory are O(n·m + n·d) per head.
 */
import {
  add, arange, cast, composite, concat, depthwiseConv1d, div, eq, fmt, full, gather, matmul, max, min, mul, mulScalar,
  padAxis, reshape, slice, softmax, sub, sum, Tensor, tensor, transpose, addScalar, where,
} from '../engine/index.js';
import { leftFactor, nystromForward, nystromFused } from './nystrom-fused.js';
import { checkFinite, checkMask, checkQkv } from './validate.js';

export interface NystromOptions {
  /** m, the number of landmarks (SPEC: 64 for the published models). */
  numLandmarks: number;
  /** Iterations of the Moore–Penrose approximation (default 6, as the paper). */
  pinvIterations?: number;
  /** Z₀ = Aᵀ/c with c the largest column sum of A over the whole batch ('original', default) or per head ('exact'). */
  pinvInit?: 'original' | 'exact';
  /** Depthwise conv weight (H, 1, K, 1) applied to V, or none. */
  convWeight?: Tensor;
  /** Key-padding mask (B, n) of 0/1. */
  mask?: Tensor;
  /** 'original' (official code, default) or 'hf' (Hugging Face: mask only on kernel B, no zeroing, conv on raw V). */
  variant?: 'original' | 'hf';
  /** When m does not divide n: uneven segments (default) or pad with masked rows and trim. */
  segments?: 'uneven' | 'pad';
}

export interface NystromFactors {
  /** F·Z (B, H, n, m): the left factor of the approximate attention matrix. */
  fz: Tensor;
  /** B (B, H, m, n): the right factor; the approximation is (F·Z)·B. */
  b: Tensor;
}

const MASK_NEG = -1e9;
/** Hugging Face's additive mask value: the most negative float32. */
const HF_MASK_NEG = -3.4028234663852886e38;

/** Nyström attention: one fused node with a hand-written backward (nystrom-fused.ts). */
export function nystromAttention(q: Tensor, k: Tensor, v: Tensor, options: NystromOptions): Tensor {
  return attend(q, k, v, options, 'fused', false).out;
}

/**
 * Nyström attention that also returns its factors F·Z and B (null when m ≥ n made it exact),
 * for inspection and heat maps of small inputs.
 */
export function nystromAttentionWithFactors(
  q: Tensor, k: Tensor, v: Tensor, options: NystromOptions,
): { out: Tensor; factors: NystromFactors | null } {
  return attend(q, k, v, options, 'fused', true);
}

/** The same algorithm composed from engine ops under autograd: the fused op's test reference. */
export function nystromAttentionReference(q: Tensor, k: Tensor, v: Tensor, options: NystromOptions): Tensor {
  return attend(q, k, v, options, 'composed', false).out;
}

type Impl = 'fused' | 'composed';

function attend(
  q: Tensor, k: Tensor, v: Tensor, options: NystromOptions, impl: Impl, keepFactors: boolean,
): { out: Tensor; factors: NystromFactors | null } {
  const op = 'nystromAttention';
  const [B, H, n, d] = checkQkv(op, q, k, v);
  const { numLandmarks: m, pinvIterations = 6, pinvInit = 'original', convWeight, mask, variant = 'original', segments = 'uneven' } = options;
  if (!Number.isInteger(m) || m < 1) throw new Error(`${op}: numLandmarks must be a positive integer, got ${m}`);
  if (!Number.isInteger(pinvIterations) || pinvIterations < 0) throw new Error(`${op}: pinvIterations must be a non-negative integer, got ${pinvIterations}`);
  if (pinvInit !== 'original' && pinvInit !== 'exact') throw new Error(`${op}: pinvInit must be 'original' or 'exact', got '${pinvInit}'`);
  if (variant !== 'original' && variant !== 'hf') throw new Error(`${op}: variant must be 'original' or 'hf', got '${variant}'`);
  if (segments !== 'uneven' && segments !== 'pad') throw new Error(`${op}: segments must be 'uneven' or 'pad', got '${segments}'`);
  if (mask) checkMask(op, mask, B, n);
  if (convWeight && (convWeight.rank !== 4 || convWeight.shape[0] !== H || convWeight.shape[1] !== 1 || convWeight.shape[3] !== 1)) {
    throw new Error(`${op}: convWeight must be (H, 1, K, 1) with H = ${H}, got ${fmt(convWeight.shape)}`);
  }
  checkFinite(op, { q, k, v, convWeight });
  if (n === 0) return { out: full([B, H, 0, d], 0), factors: null };

  return composite([q, k, v, ...(convWeight ? [convWeight] : [])], () => {
    if (m >= n) return { out: exactWithConv(q, k, v, mask, convWeight, variant), factors: null };
    if (n % m !== 0 && segments === 'pad') return padded(q, k, v, options, n, m, impl, keepFactors);
    return core(q, k, v, m, pinvIterations, pinvInit, convWeight, mask, variant, impl, keepFactors);
  });
}

function core(
  q: Tensor, k: Tensor, v: Tensor, m: number, iterations: number, init: 'original' | 'exact',
  convWeight: Tensor | undefined, mask: Tensor | undefined, variant: 'original' | 'hf', impl: Impl, keepFactors: boolean,
): { out: Tensor; factors: NystromFactors | null } {
  const keyBias = mask && keyBiasOf(mask, variant);
  const zeroPads = variant === 'original';
  if (impl === 'fused') {
    const r = nystromFused({ q, k, v, m, iterations, init, convWeight, mask, keyBias, zeroPads, inverse: iterativeInverse, keepFactors });
    return { out: r.out, factors: r.fz && r.b && { fz: r.fz, b: r.b } };
  }
  const r = nystromForward({ q, k, v, m, iterations, init, convWeight, mask, keyBias, zeroPads, inverse: iterativeInverse, keepFactors });
  return { out: r.out, factors: keepFactors ? { fz: leftFactor(r), b: r.bk } : null };
}

/**
 * Z ≈ A⁺ (docs/algorithm.md §1.4). 'original': c = the largest column sum of A over the whole tensor,
 * whose max splits its gradient evenly among ties, as PyTorch's full max does; 'exact': c per
 * (b, h), whose gradient goes to one column, as PyTorch's max over a dimension does.
 */
export function iterativeInverse(a: Tensor, iterations: number, init: 'original' | 'exact'): Tensor {
  const [B, H, m] = a.shape;
  const colSums = sum(a, -2); // (B,H,m)
  let c: Tensor;
  if (init === 'original') c = max(colSums);
  else {
    // The first column of the largest sum, found on the device (no read back): the smallest index where the sum is the row's max.
    const isBest = eq(colSums, max(colSums, -1, { keepDims: true }));
    const first = min(where(isBest, cast(arange(m), 'float32'), full([1], m)), -1, { keepDims: true });
    c = reshape(gather(colSums, cast(first, 'int32'), -1), [B, H, 1, 1]);
  }
  const eye = identity(m);
  let z = div(transpose(a), c); // Z₀ = Aᵀ/c
  for (let i = 0; i < iterations; i++) {
    const az = matmul(a, z);
    const inner = matmul(az, sub(mulScalar(eye, 7), az)); // AZ(7I − AZ)
    const middle = matmul(az, sub(mulScalar(eye, 15), inner)); // AZ(15I − AZ(7I − AZ))
    z = matmul(mulScalar(z, 0.25), sub(mulScalar(eye, 13), middle));
  }
  return z;
}

/** (1 − mask)·(large negative), shaped (B, 1, 1, n) to add to the scores of every head and query. */
function keyBiasOf(mask: Tensor, variant: 'original' | 'hf'): Tensor {
  const [B, n] = mask.shape;
  return reshape(mulScalar(addScalar(mulScalar(mask, -1), 1), variant === 'hf' ? HF_MASK_NEG : MASK_NEG), [B, 1, 1, n]);
}

function identity(m: number): Tensor {
  const data = new Float32Array(m * m);
  for (let i = 0; i < m; i++) data[i * m + i] = 1;
  return tensor(data, [m, m]);
}

/** m ≥ n: every token is its own landmark, so attention is exact (plus the conv). */
function exactWithConv(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | undefined, convWeight: Tensor | undefined, variant: 'original' | 'hf'): Tensor {
  const [B, , n, d] = q.shape;
  const keyBias = mask && keyBiasOf(mask, variant);
  const scores = mulScalar(matmul(q, k, { transB: true }), 1 / Math.sqrt(d));
  let out = matmul(softmax(scores, { mask: keyBias }), v);
  if (convWeight) {
    const convInput = variant === 'original' && mask ? mul(v, reshape(mask, [B, 1, n, 1])) : v;
    out = add(out, depthwiseConv1d(convInput, convWeight));
  }
  return out;
}

/** Pads n up to a multiple of m with masked rows, runs the official algorithm, trims. */
function padded(
  q: Tensor, k: Tensor, v: Tensor, options: NystromOptions, n: number, m: number, impl: Impl, keepFactors: boolean,
): { out: Tensor; factors: NystromFactors | null } {
  const [B] = q.shape;
  const extra = Math.ceil(n / m) * m - n;
  const grow = (t: Tensor) => padAxis(t, 2, 0, extra);
  const mask = concat([options.mask ?? full([B, n], 1), full([B, extra], 0)], 1);
  const r = core(
    grow(q), grow(k), grow(v), m, options.pinvIterations ?? 6, options.pinvInit ?? 'original', options.convWeight, mask,
    options.variant ?? 'original', impl, keepFactors,
  );
  const f = r.factors;
  return { out: slice(r.out, 2, 0, n), factors: f && { fz: slice(f.fz, 2, 0, n), b: slice(f.b, 3, 0, n) } };
}

