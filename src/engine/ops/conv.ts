/**
 * Depthwise 1-D convolution along the sequence axis (docs/algorithm.md §1.6): one K-tap filter per head,
 * shared by the head's d features, zero padding ⌊K/2⌋ at both ends, no bias.
 * PyTorch: Conv2d(H, H, (K, 1), padding=(K // 2, 0), groups=H, bias=False), weight (H, 1, K, 1).
 */
import { record } from '../autograd.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';
import { empty, run, withContiguous } from './kernel.js';

/** Scratch per thread for dwconvGradWeight's f64 sums: 2 × 16 taps × 8 bytes + alignment (kernels/conv.ts). */
const DWCONV_WORK_BYTES = 264;

/** x [B, H, n, d], weight [H, 1, K, 1] (or [H, K]) → [B, H, n, d]. */
export function depthwiseConv1d(x: Tensor, weight: Tensor): Tensor {
  if (x.dtype !== 'float32' || weight.dtype !== 'float32') {
    throw new Error(`depthwiseConv1d: expects float32 x and weight, got ${x.dtype} and ${weight.dtype}`);
  }
  if (x.rank !== 4) throw new Error(`depthwiseConv1d: x must be [B, H, n, d], got ${fmt(x.shape)}`);
  const [B, H, n, d] = x.shape;
  const K = weight.shape[weight.rank === 4 ? 2 : 1];
  const okWeight = (weight.rank === 4 && weight.shape[1] === 1 && weight.shape[3] === 1) || weight.rank === 2;
  if (!okWeight || weight.shape[0] !== H) {
    throw new Error(`depthwiseConv1d: weight must be [H, 1, K, 1] with H = ${H}, got ${fmt(weight.shape)} for x ${fmt(x.shape)}`);
  }
  if (K % 2 === 0) throw new Error(`depthwiseConv1d: kernel size must be odd (output keeps length n), got ${K}`);
  const dims = [B, H, n, d, K] as const;
  const work = x.size * K;
  const out = empty(x.shape);
  if (out.size > 0) withContiguous([x, weight], (xc, wc) => run('dwconv', [xc, wc, out, ...dims], work));
  return record(out, 'depthwiseConv1d', [x, weight], (dy) =>
    depthwiseConv1dAdjoint(dy, x, weight, x.requiresGrad, weight.requiresGrad),
  );
}

/**
 * The conv's vector-Jacobian product, for fused ops that call it from their own backward:
 * dx[j] = Σ_t w[t]·dy[j − t + p];  dw[t] = Σ_{b,i,c} dy[i]·x[i + t − p]
 */
export function depthwiseConv1dAdjoint(dy: Tensor, x: Tensor, weight: Tensor, wantX = true, wantW = true): [Tensor | null, Tensor | null] {
  const [B, H, n, d] = x.shape;
  const K = weight.shape[weight.rank === 4 ? 2 : 1];
  const dims = [B, H, n, d, K] as const;
  const work = x.size * K;
  const dx = wantX ? empty(x.shape) : null;
  const dw = wantW ? empty(weight.shape) : null;
  withContiguous([x, weight, dy], (xc, wc, dyc) => {
    if (dx && dx.size > 0) run('dwconvGradInput', [dyc, wc, dx, ...dims], work);
    if (dw) run('dwconvGradWeight', [dyc, xc, dw, ...dims, DWCONV_WORK_BYTES], work);
  });
  return [dx, dw];
}
