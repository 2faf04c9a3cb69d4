/**
 * Linformer attention (Wang et al. 2020), the LRA baseline `linformer-k`: keys and values are
 * projected along the sequence, n → k, by learned matrices E and F (one per layer, shared by the
 * heads, as in LRA), and attention runs exactly over the k projected positions:
 *
 *   out = softmax(Q · (E·K)ᵀ / √d) · (F·V)        O(n·k) time and memory
 *
 * Padded keys and values are zeroed before the projection, so padding contributes nothing.
 * Differentiable in q, k, v, E and F (a composition of differentiable ops).
 */
import { composite, fmt, matmul, mul, reshape, Tensor } from '../engine/index.js';
import { softmaxAttention } from './softmax-attention.js';
import { checkMask, checkQkv } from './validate.js';

export interface LinformerOptions {
  /** E (k, n): projects the keys along the sequence. */
  projectKeys: Tensor;
  /** F (k, n): projects the values. */
  projectValues: Tensor;
  /** Key-padding mask (B, n) of 0/1. */
  mask?: Tensor;
}

export function linformerAttention(q: Tensor, k: Tensor, v: Tensor, options: LinformerOptions): Tensor {
  const op = 'linformerAttention';
  const [B, , n] = checkQkv(op, q, k, v);
  const { projectKeys: e, projectValues: f, mask } = options;
  for (const [name, p] of [['projectKeys', e], ['projectValues', f]] as const) {
    if (p.rank !== 2 || p.shape[1] !== n) throw new Error(`${op}: ${name} must be (k, n) with n = ${n}, got ${fmt(p.shape)}`);
  }
  if (e.shape[0] !== f.shape[0]) throw new Error(`${op}: projectKeys ${fmt(e.shape)} and projectValues ${fmt(f.shape)} differ in k`);
  if (mask) checkMask(op, mask, B, n);
  return composite([q, k, v, e, f], () => {
    const rows = mask ? reshape(mask, [B, 1, n, 1]) : undefined;
    const keys = matmul(e, rows ? mul(k, rows) : k); // (B, H, k, d)
    const values = matmul(f, rows ? mul(v, rows) : v);
    return softmaxAttention(q, keys, values);
  });
}
