/**
 * Performer attention (Choromanski et al. 2021), the LRA baseline `performer-m`: softmax attention
 * approximated with FAVOR+ positive random features. With x scaled by d^-¼ and ω₁…ω_m the rows of
 * `features` (m, d),
 *
 *   φ(x) = exp(ωᵢ·x − ‖x‖²/2 − c) / √m,   out = φ(Q)·(φ(K)ᵀ·V) / (φ(Q)·(φ(K)ᵀ·1))
 *
 * in O(n·m·d). c is a stabiliser that cancels in the ratio: the row maximum for queries, the
 * maximum over all keys of a head for keys. Padded keys get φ = 0. Differentiable in q, k, v.
 */
import {
  composite, div, exp, fmt, matmul, max, mul, mulScalar, noGrad, ones, reshape, seededRandom, sub, sum, Tensor, tensor,
} from '../engine/index.js';
import { checkMask, checkQkv } from './validate.js';

export interface PerformerOptions {
  /** ω (m, d): random features, e.g. from orthogonalRandomFeatures. */
  features: Tensor;
  /** Key-padding mask (B, n) of 0/1. */
  mask?: Tensor;
}

export function performerAttention(q: Tensor, k: Tensor, v: Tensor, options: PerformerOptions): Tensor {
  const op = 'performerAttention';
  const [B, , n, d] = checkQkv(op, q, k, v);
  const { features, mask } = options;
  if (features.rank !== 2 || features.shape[1] !== d) throw new Error(`${op}: features must be (m, d) with d = ${d}, got ${fmt(features.shape)}`);
  if (mask) checkMask(op, mask, B, n);
  const m = features.shape[0];
  return composite([q, k, v], () => {
    const phi = (x: Tensor, stabilise: (projected: Tensor) => Tensor) => {
      const xs = mulScalar(x, d ** -0.25);
      const projected = matmul(xs, features, { transB: true }); // (B, H, n, m)
      const halfNorm = mulScalar(sum(mul(xs, xs), -1, { keepDims: true }), 0.5);
      const shift = noGrad(() => stabilise(projected)); // cancels in the ratio: no gradient needed
      return mulScalar(exp(sub(sub(projected, halfNorm), shift)), 1 / Math.sqrt(m));
    };
    const phiQ = phi(q, (p) => max(p, -1, { keepDims: true }));
    let phiK = phi(k, (p) => max(p, [-2, -1], { keepDims: true }));
    if (mask) phiK = mul(phiK, reshape(mask, [B, 1, n, 1]));
    const kv = matmul(phiK, v, { transA: true }); // (B, H, m, d)
    const numerator = matmul(phiQ, kv); // (B, H, n, d)
    const kSum = matmul(phiK, ones([n, 1]), { transA: true }); // (B, H, m, 1)
    const denominator = matmul(phiQ, kSum); // (B, H, n, 1)
    return div(numerator, denominator);
  });
}

/**
 * m × d random features for FAVOR+: blocks of d orthogonal Gaussian directions (Gram–Schmidt), each
 * row rescaled to the norm of an independent Gaussian vector, so rows are marginally N(0, I).
 */
export function orthogonalRandomFeatures(m: number, d: number, seed: number): Tensor {
  const uniform = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()); // 1 − u ∈ (0, 1]
  const rows: number[][] = [];
  while (rows.length < m) {
    const block: number[][] = [];
    while (block.length < d && rows.length + block.length < m) {
      const w = Array.from({ length: d }, gaussian);
      for (const u of block) {
        const dot = w.reduce((s, x, i) => s + x * u[i], 0);
        for (let i = 0; i < d; i++) w[i] -= dot * u[i];
      }
      const norm = Math.hypot(...w);
      if (norm > 1e-6) block.push(w.map((x) => x / norm));
    }
    for (const u of block) {
      const length = Math.hypot(...Array.from({ length: d }, gaussian));
      rows.push(u.map((x) => x * length));
    }
  }
  return tensor(Float32Array.from(rows.flat()), [m, d]);
}
