/**
 * The Nyström core as one autograd node with a hand-written backward (docs/algorithm.md §1). Only the
 * tensors the backward needs are kept — Q', K' (n×d), F, B (n×m) and m-sized ones — and
 * backward frees each temporary as soon as it is used, so memory stays O(n·m + n·d) per head.
 * The composition in nystrom.ts (plain engine ops under autograd) is its test reference.
 *
 * Legend: B batch, H heads, n tokens, d head size, m landmarks.
 */
import {
  add, depthwiseConv1d, depthwiseConv1dAdjoint, full, gradients, isGradEnabled, matmul, mul, mulScalar, noGrad,
  record, reshape, softmax, softmaxAdjoint, Tensor, tidy, withGrad,
} from '../engine/index.js';
import { segmentMeans, segmentMeansAdjoint } from './landmarks.js';

export interface NystromCoreInputs {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  m: number;
  iterations: number;
  init: 'original' | 'exact';
  convWeight?: Tensor;
  /** (B, n) 0/1 */
  mask?: Tensor;
  /** Additive key bias for kernel B, (B, 1, 1, n). */
  keyBias?: Tensor;
  /** Zero padded rows of Q, K and V (the official code) or not (Hugging Face). */
  zeroPads: boolean;
  inverse: (a: Tensor, iterations: number, init: 'original' | 'exact') => Tensor;
  /** Also compute F·Z and keep B for the caller (inspection); otherwise B is freed when not needed. */
  keepFactors: boolean;
}

/** The forward's tensors: what the backward reads, and the output. */
export interface NystromForward {
  qs: Tensor; ks: Tensor; qt: Tensor; kt: Tensor; f: Tensor; a: Tensor; bk: Tensor; z: Tensor;
  bv: Tensor; w: Tensor; out: Tensor; convIn: Tensor | undefined;
}

/**
 * out = F·(Z·(B·V)) + DWConv(V ⊙ mask), composed from engine ops. Under autograd this is the
 * reference the fused op is tested against; without it, the fused op's forward.
 * The official code multiplies (F·Z)·(B·V): the same product, but F·Z costs n·m² per head more (and
 * its backward twice that), while Z·(B·V) is m×m times m×d.
 */
export function nystromForward(x: NystromCoreInputs): NystromForward {
  const masks = rowMasks(x);
  const kernels = nystromKernels(x, masks);
  return { ...kernels, ...nystromCombine(x, masks, kernels, x.inverse(kernels.a, x.iterations, x.init)) };
}

type NystromKernels = Pick<NystromForward, 'qs' | 'ks' | 'qt' | 'kt' | 'f' | 'a' | 'bk'>;

/** The rows the official code zeroes, the mask (B,1,n,1), and Q' and K''s factor: mask·s, or s alone
 *  (a broadcast scalar: the product reads Q's strided view in place, with mulScalar's bits). */
interface RowMasks {
  rowMask?: Tensor;
  scaledMask: Tensor;
}

function rowMasks({ q, mask, zeroPads }: NystromCoreInputs): RowMasks {
  const [B, , n, d] = q.shape;
  const scale = 1 / Math.sqrt(Math.sqrt(d));
  const rowMask = zeroPads && mask ? reshape(mask, [B, 1, n, 1]) : undefined;
  return { rowMask, scaledMask: rowMask ? mulScalar(rowMask, scale) : full([1, 1, 1, 1], scale) };
}

/** Q', K', the landmarks and the three softmax kernels F, A, B. */
function nystromKernels(x: NystromCoreInputs, { scaledMask }: RowMasks): NystromKernels {
  const { q, k, m, keyBias } = x;
  // Q' = (Q ⊙ mask)·s in one pass: with a 0/1 mask and s > 0, Q ⊙ (mask·s) has the same bits
  const qs = mul(q, scaledMask); // Q' (B,H,n,d)
  const ks = mul(k, scaledMask); // K'
  const qt = segmentMeans(qs, m); // Q̃ (B,H,m,d)
  const kt = segmentMeans(ks, m); // K̃
  const f = softmax(matmul(qs, kt, { transB: true })); // F (B,H,n,m)
  const a = softmax(matmul(qt, kt, { transB: true })); // A (B,H,m,m)
  const bk = softmax(matmul(qt, ks, { transB: true }), { mask: keyBias }); // B (B,H,m,n)
  return { qs, ks, qt, kt, f, a, bk };
}

/** With Z ≈ A⁺: B·V, W = Z·(B·V) and the output F·W. */
function nystromCombine(
  { v, convWeight }: NystromCoreInputs, { rowMask }: RowMasks, { f, bk }: NystromKernels, z: Tensor,
): Pick<NystromForward, 'z' | 'bv' | 'w' | 'out' | 'convIn'> {
  const bv = matmul(bk, v); // B·V (B,H,m,d)
  const w = matmul(z, bv); // W = Z·(B·V) (B,H,m,d)
  let out = matmul(f, w); // (B,H,n,d)
  const convIn = convWeight ? (rowMask ? mul(v, rowMask) : v) : undefined;
  if (convWeight && convIn) out = add(out, depthwiseConv1d(convIn, convWeight));
  return { z, bv, w, out, convIn };
}

/** F·Z (B,H,n,m), the left factor of the approximate attention matrix, for inspection (keepFactors). */
export function leftFactor(saved: Pick<NystromForward, 'f' | 'z'>): Tensor {
  return noGrad(() => matmul(saved.f, saved.z));
}

/** The fused op: nystromForward without autograd, and a hand-written backward. Also returns F·Z and B when keepFactors. */
export function nystromFused(x: NystromCoreInputs): { out: Tensor; fz: Tensor | null; b: Tensor | null } {
  const { q, k, v, convWeight } = x;
  const inputs = convWeight ? [q, k, v, convWeight] : [q, k, v];
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) {
    // Nothing will run backward: free what it would have needed.
    const saved = tidy(() => noGrad(() => nystromForward(x)));
    const fz = x.keepFactors ? leftFactor(saved) : null;
    const keep = new Set<Tensor | undefined>([saved.out, ...(x.keepFactors ? [saved.bk] : [])]);
    Object.values(saved).forEach((t) => t && t !== q && t !== k && t !== v && !keep.has(t) && t.dispose());
    return { out: saved.out, fz, b: x.keepFactors ? saved.bk : null };
  }
  const masks = rowMasks(x);
  const { rowMask, scaledMask } = masks;
  const kernels = tidy(() => noGrad(() => nystromKernels(x, masks)));
  const { qs, ks, qt, kt, f, a, bk } = kernels;
  // Z = pinv(A) recorded from a leaf copy of A: the backward differentiates this graph instead of
  // replaying the iterations (its tensors live as long as the other saved ones).
  const leaf = noGrad(() => mulScalar(a, 1));
  leaf.requiresGrad = true;
  const z = withGrad(() => x.inverse(leaf, x.iterations, x.init));
  const { bv, w, out, convIn } = tidy(() => noGrad(() => nystromCombine(x, masks, kernels, z)));
  const fz = x.keepFactors ? leftFactor({ f, z }) : null;
  record(out, 'nystromAttention', inputs, (dOut) => {
    const free = (...ts: Tensor[]) => ts.forEach((t) => t.dispose());
    // out = F·W:  dF = dO·Wᵀ, dW = Fᵀ·dO
    const dF = matmul(dOut, w, { transB: true }); // (B,H,n,m)
    const dW0 = matmul(f, dOut, { transA: true }); // (B,H,m,d)
    // W = Z·BV:  dZ = dW·BVᵀ, dBV = Zᵀ·dW
    const dZ = matmul(dW0, bv, { transB: true }); // (B,H,m,m)
    const dBv = matmul(z, dW0, { transA: true }); // (B,H,m,d)
    free(dW0);
    // BV = B·V:  dB = dBV·Vᵀ, dV = Bᵀ·dBV
    const dBk = matmul(dBv, v, { transB: true }); // (B,H,m,n)
    let dV = matmul(bk, dBv, { transA: true }); // (B,H,n,d)
    free(dBv);
    let dW: Tensor | null = null;
    if (convWeight && convIn) {
      // out += DWConv(V⊙mask): the conv kernels' adjoints, then the mask
      const [dIn, gW] = depthwiseConv1dAdjoint(dOut, convIn, convWeight) as [Tensor, Tensor];
      const dvConv = rowMask ? mul(dIn, rowMask) : dIn;
      const sum = add(dV, dvConv);
      free(dV, dIn);
      if (dvConv !== dIn) free(dvConv);
      dV = sum;
      dW = gW;
    }
    // Z = pinv(A): the m×m iteration differentiated by autograd (small)
    const [dA] = gradients([z], [leaf], [dZ]);
    free(dZ);
    // softmax backward of the three kernels: dS = P ⊙ (dP − Σ dP⊙P)
    const dSf = softmaxAdjoint(f, dF); // (B,H,n,m)
    const dSa = softmaxAdjoint(a, dA); // (B,H,m,m)
    const dSb = softmaxAdjoint(bk, dBk); // (B,H,m,n)
    free(dF, dA, dBk);
    // S_F = Q'K̃ᵀ, S_A = Q̃K̃ᵀ, S_B = Q̃K'ᵀ
    const dQs = matmul(dSf, kt); // (B,H,n,d)
    const dKs = matmul(dSb, qt, { transA: true }); // (B,H,n,d)
    const dKt = add(matmul(dSf, qs, { transA: true }), matmul(dSa, qt, { transA: true })); // (B,H,m,d)
    const dQt = add(matmul(dSa, kt), matmul(dSb, ks)); // (B,H,m,d)
    free(dSf, dSa, dSb);
    // Q̃ = segment means of Q', K̃ likewise
    const dQ = landmarkAdjoint(dQs, dQt, scaledMask);
    const dK = landmarkAdjoint(dKs, dKt, scaledMask);
    free(dQs, dKs, dQt, dKt);
    return convWeight ? [dQ, dK, dV, dW] : [dQ, dK, dV];
  });
  return { out, fz, b: x.keepFactors ? bk : null };
}

/** d(Q) from d(Q') and d(Q̃): dQ' += segment-mean adjoint of dQ̃; dQ = s·dQ' (⊙ mask, as one product with mask·s). */
function landmarkAdjoint(dRows: Tensor, dLandmarks: Tensor, scaledMask: Tensor): Tensor {
  const total = segmentMeansAdjoint(dLandmarks, dRows.shape[2], dRows);
  const scaled = mul(total, scaledMask);
  total.dispose();
  return scaled;
}



