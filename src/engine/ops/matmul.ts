/**
 * Batched matrix product with either operand transposed, batch dimensions broadcast.
 * Runs on the backend's GEMM (WebAssembly, or native for large products in Node).
 */
import { record } from '../autograd.js';
import { backend } from '../engine.js';
import { broadcastShapes, fmt, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { broadcastStrides, copyContiguous, empty, run } from './kernel.js';
import { expand } from './shape-ops.js';
import { sumTo } from './reduce.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** [n], added to every row in the product's own pass (a Linear layer's bias): the same values as add(matmul(a, b), bias). */
  bias?: Tensor;
}

/** op(a)·op(b) (+ bias) for a [..., m, k] (or [..., k, m] if transA) and b [..., k, n] (or [..., n, k]). */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const { transA = false, transB = false, bias } = options;
  const out = matmulForward(a, b, transA, transB, bias);
  return record(out, 'matmul', bias ? [a, b, bias] : [a, b], (dy) => {
    // C = op(A)·op(B):  d op(A) = dC·op(B)ᵀ,  d op(B) = op(A)ᵀ·dC
    const da = !a.requiresGrad ? null : transA
      ? matmulForward(b, dy, transB, true)
      : matmulForward(dy, b, false, !transB);
    const db = !b.requiresGrad ? null : transB
      ? matmulForward(dy, a, true, transA)
      : matmulForward(a, dy, !transA, false);
    const grads = [da && reduceBatch(da, a), db && reduceBatch(db, b)];
    return bias ? [...grads, bias.requiresGrad ? sumTo(dy, bias.shape) : null] : grads;
  });
}

function matmulForward(a: Tensor, b: Tensor, transA: boolean, transB: boolean, bias?: Tensor): Tensor {
  const what = () => `matmul${transA ? ' (A transposed)' : ''}${transB ? ' (B transposed)' : ''}: ${fmt(a.shape)} × ${fmt(b.shape)}`;
  if (a.rank < 2 || b.rank < 2) throw new Error(`${what()}: both operands need at least 2 dimensions`);
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error(`${what()}: expects float32`);
  const [m, k] = transA ? [a.shape[a.rank - 1], a.shape[a.rank - 2]] : [a.shape[a.rank - 2], a.shape[a.rank - 1]];
  const [k2, n] = transB ? [b.shape[b.rank - 1], b.shape[b.rank - 2]] : [b.shape[b.rank - 2], b.shape[b.rank - 1]];
  if (k !== k2) throw new Error(`${what()}: inner dimensions ${k} and ${k2} differ`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== n || bias.dtype !== 'float32')) {
    throw new Error(`${what()}: the bias must be float32 [${n}], got ${bias.dtype} ${fmt(bias.shape)}`);
  }
  const batchShape = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = empty([...batchShape, m, n]);
  if (out.size === 0) return out;
  const row = bias && !bias.isContiguous ? copyContiguous(bias) : bias;
  if (k === 0) run('fill', [out, out.size, 0], out.size);
  if (k === 0 && !row) return out;
  const [ab, aBatch] = batchLayout(a, batchShape);
  const [bb, bBatch] = batchLayout(b, batchShape);
  const [ar, ac] = [ab.strides[ab.rank - 2], ab.strides[ab.rank - 1]];
  const [br, bc] = [bb.strides[bb.rank - 2], bb.strides[bb.rank - 1]];
  backend().matmul({
    batch: sizeOf(batchShape), m, n, k,
    a: ab, aStrides: [aBatch, transA ? ac : ar, transA ? ar : ac],
    b: bb, bStrides: [bBatch, transB ? bc : br, transB ? br : bc],
    c: out,
    // k = 0: C = 1·C + bias over the zeros just written
    ...(row && { bias: row, ...(k === 0 && { alpha: 0, beta: 1 }) }),
  });
  if (ab !== a) ab.dispose();
  if (bb !== b) bb.dispose();
  if (row && row !== bias) row.dispose();
  return out;
}

/**
 * The operand and one batch stride that walks its (broadcast) batch dimensions in order;
 * a contiguous copy when no single stride can.
 */
function batchLayout(t: Tensor, batchShape: readonly number[]): [Tensor, number] {
  const full = [...batchShape, t.shape[t.rank - 2], t.shape[t.rank - 1]];
  const strides = broadcastStrides(t, full).slice(0, batchShape.length);
  const dims = batchShape.map((d, i) => [d, strides[i]]).filter(([d]) => d !== 1);
  if (dims.length === 0) return [t, 0];
  if (dims.every(([, s]) => s === 0)) return [t, 0];
  let ok = true;
  for (let i = 0; i + 1 < dims.length; i++) ok &&= dims[i][1] === dims[i + 1][1] * dims[i + 1][0];
  if (ok) return [t, dims[dims.length - 1][1]];
  const e = expand(t, full);
  const c = copyContiguous(e);
  e.dispose();
  return [c, t.shape[t.rank - 2] * t.shape[t.rank - 1]];
}

/** Sums a gradient over the batch dimensions its operand was broadcast along. */
function reduceBatch(g: Tensor, like: Tensor): Tensor {
  const r = sumTo(g, like.shape);
  if (r !== g) g.dispose();
  return r;
}
