/**
 * The attention computations of NystromformerSelfAttention as ONNX nodes, mirroring the engine
 * (models/nystromformer/self-attention.ts, attention/nystrom.ts, attention/nystrom-fused.ts).
 *
 * Legend: B batch, H heads, n tokens, d head size, m landmarks; q, k, v are (B, H, n, d).
 */
import { poolingWeights } from '../attention/index.js';
import type { NystromPlan } from '../models/index.js';
import { attr, OnnxGraph } from './onnx-graph.js';

/** Additive score of a masked key: the original code's, and Hugging Face's (most negative float32). */
export const MASK_NEG = -1e9;
export const HF_MASK_NEG = -3.4028234663852886e38;

/** TensorProto.DataType FLOAT, for Cast. */
export const CAST_FLOAT = 1;

/** Values computed once per graph and shared by every layer. */
export interface AttentionInputs {
  /** (B, 1, 1, n) additive key bias for kernel B and exact attention. */
  keyBias: string;
  /** (B, 1, n, 1) 0/1 rows, or null when padded rows are not zeroed (Hugging Face). */
  rowMask: string | null;
  /** (m, n) segment-averaging matrix: landmarks = P·X (only for Nyström). */
  pooling: string | null;
  /** A bool scalar, true when m ≥ n (for 'nystrom', whose n is a graph dim). */
  exactWhen: string | null;
}

/** Kᵀ over the last two axes. */
export function transposeLast(g: OnnxGraph, x: string): string {
  return g.node('Transpose', [x], { perm: attr.ints([0, 1, 3, 2]) }, `${x}_t`);
}

/** softmax(Q·Kᵀ/√d + key bias)·V: exact attention (the flash kernel's result); no bias when `keyBias` is null. */
export function exactAttention(g: OnnxGraph, q: string, k: string, v: string, d: number, keyBias: string | null): string {
  const scores = g.node('Mul', [g.node('MatMul', [q, transposeLast(g, k)]), g.floats([1 / Math.sqrt(d)])], {}, 'scores');
  const probs = g.node('Softmax', [keyBias ? g.node('Add', [scores, keyBias]) : scores], { axis: attr.int(-1) }, 'probs');
  return g.node('MatMul', [probs, v], {}, 'attended');
}

/** (m, n) segment-averaging matrix P for a fixed n: attention/landmarks.ts's, as a constant. */
export function fixedPooling(g: OnnxGraph, n: number, m: number): string {
  return g.weight('pooling', poolingWeights(n, m), [m, n]);
}

/**
 * P for n a graph dim (segmentBounds's rule, which a constant cannot hold for every n): with
 * s = ⌊n/m⌋ the first (s+1)·m − n segments have s rows, the rest s + 1. Meaningless, but harmless,
 * when m > n (the exact branch runs then). test/onnx-export.test.ts compares it with segmentBounds.
 */
export function dynamicPooling(g: OnnxGraph, n: string, m: number): string {
  const mConst = g.ints([m], []);
  const one = g.ints([1], []);
  const s = g.node('Div', [n, mConst], {}, 'seg_rows'); // ⌊n/m⌋ (int64 division)
  const short = g.node('Sub', [g.node('Mul', [g.node('Add', [s, one]), mConst]), n], {}, 'seg_short');
  const j = g.ints(Array.from({ length: m }, (_, i) => i), [m, 1]); // landmark index (m, 1)
  const isShort = g.node('Less', [j, short]);
  const beyond = g.node('Where', [isShort, g.ints([0], []), g.node('Sub', [j, short])]);
  const start = g.node('Add', [g.node('Mul', [j, s]), beyond], {}, 'seg_start'); // (m, 1)
  const len = g.node('Where', [isShort, s, g.node('Add', [s, one])], {}, 'seg_len'); // (m, 1)
  const end = g.node('Add', [start, len], {}, 'seg_end');
  const rows = g.node('Unsqueeze', [g.node('Range', [g.ints([0], []), n, one]), g.ints([0])], {}, 'rows'); // (1, n)
  const inside = g.node('And', [g.node('GreaterOrEqual', [rows, start]), g.node('Less', [rows, end])]);
  const member = g.node('Cast', [inside], { to: attr.int(CAST_FLOAT) });
  return g.node('Div', [member, g.node('Cast', [len], { to: attr.int(CAST_FLOAT) })], {}, 'pooling'); // (m, n)
}

/**
 * Nyström attention (docs/algorithm.md §1, nystromForward):
 *   Q' = (Q ⊙ mask)/d^¼, K' likewise; Q̃ = P·Q', K̃ = P·K'
 *   F = softmax(Q'K̃ᵀ), A = softmax(Q̃K̃ᵀ), B = softmax(Q̃K'ᵀ + key bias)
 *   out = F·(Z·(B·V)), Z ≈ A⁺ (iterativeInverse)
 */
export function nystromAttention(
  g: OnnxGraph, q: string, k: string, v: string, d: number, inputs: AttentionInputs, plan: NystromPlan,
): string {
  const { rowMask, keyBias, pooling } = inputs;
  if (!pooling) throw new Error('exportOnnx: Nyström attention needs the pooling matrix');
  const scale = g.floats([1 / Math.sqrt(Math.sqrt(d))]);
  const scaled = (x: string, name: string) => g.node('Mul', [rowMask ? g.node('Mul', [x, rowMask]) : x, scale], {}, name);
  const qs = scaled(q, 'q_scaled'); // Q' (B,H,n,d)
  const ks = scaled(k, 'k_scaled'); // K'
  const qt = g.node('MatMul', [pooling, qs], {}, 'q_landmarks'); // Q̃ (B,H,m,d)
  const kt = g.node('MatMul', [pooling, ks], {}, 'k_landmarks'); // K̃
  const ktT = transposeLast(g, kt);
  const softmax = (x: string, name: string) => g.node('Softmax', [x], { axis: attr.int(-1) }, name);
  const f = softmax(g.node('MatMul', [qs, ktT]), 'kernel_f'); // (B,H,n,m)
  const a = softmax(g.node('MatMul', [qt, ktT]), 'kernel_a'); // (B,H,m,m)
  const b = softmax(g.node('Add', [g.node('MatMul', [qt, transposeLast(g, ks)]), keyBias]), 'kernel_b'); // (B,H,m,n)
  const z = iterativeInverse(g, a, plan);
  const bv = g.node('MatMul', [b, v], {}, 'bv'); // (B,H,m,d)
  const w = g.node('MatMul', [z, bv], {}, 'zbv'); // Z·(B·V) (B,H,m,d): cheaper than F·Z first
  return g.node('MatMul', [f, w], {}, 'attended');
}

/**
 * Z ≈ A⁺: Z₀ = Aᵀ/c, then Z ← ¼Z(13I − AZ(15I − AZ(7I − AZ))). c is the largest column sum of
 * A over the whole tensor ('original': one scalar for every batch element and head) or per
 * (b, h) ('exact').
 */
function iterativeInverse(g: OnnxGraph, a: string, { numLandmarks: m, pinvIterations: iterations, pinvInit: init }: NystromPlan): string {
  const colSums = g.node('ReduceSum', [a, g.ints([2])], { keepdims: attr.int(1) }, 'col_sums'); // (B,H,1,m)
  const c = init === 'original'
    ? g.node('ReduceMax', [colSums], { keepdims: attr.int(1) }, 'pinv_c') // (1,1,1,1)
    : g.node('ReduceMax', [colSums], { axes: attr.ints([3]), keepdims: attr.int(1) }, 'pinv_c'); // (B,H,1,1)
  const eye = (scale: number) => {
    const data = new Float32Array(m * m);
    for (let i = 0; i < m; i++) data[i * m + i] = scale;
    return g.floats(data, [m, m]);
  };
  const [i7, i15, i13] = [eye(7), eye(15), eye(13)];
  let z = g.node('Div', [transposeLast(g, a), c], {}, 'pinv_z');
  for (let it = 0; it < iterations; it++) {
    const az = g.node('MatMul', [a, z], {}, 'pinv_az');
    const inner = g.node('MatMul', [az, g.node('Sub', [i7, az])]); // AZ(7I − AZ)
    const middle = g.node('MatMul', [az, g.node('Sub', [i15, inner])]); // AZ(15I − AZ(7I − AZ))
    z = g.node('MatMul', [g.node('Mul', [z, g.floats([0.25])]), g.node('Sub', [i13, middle])], {}, 'pinv_z');
  }
  return z; // (B,H,m,m)
}

/** PyTorch's Conv2d(H, H, (k, 1), padding (k//2, 0), groups H, bias False) on (B, H, n, d). */
export function depthwiseConv(g: OnnxGraph, x: string, weight: string, heads: number, kernel: number): string {
  const pad = Math.floor(kernel / 2);
  return g.node('Conv', [x, weight], {
    group: attr.int(heads),
    kernel_shape: attr.ints([kernel, 1]),
    pads: attr.ints([pad, 0, pad, 0]),
    strides: attr.ints([1, 1]),
  }, 'conv');
}

/**
 * The engine's choice at run time for 'nystrom': exact attention when m ≥ n, Nyström otherwise.
 * n is a graph dim, so both become If branches.
 */
export function nystromOrExact(
  g: OnnxGraph, q: string, k: string, v: string, d: number, inputs: AttentionInputs, plan: NystromPlan,
): string {
  if (!inputs.exactWhen) throw new Error('exportOnnx: the Nyström/exact choice needs the m ≥ n condition');
  const exact = g.subgraph('exact_branch');
  exact.output(exactAttention(exact, q, k, v, d, inputs.keyBias), 'float32');
  const approx = g.subgraph('nystrom_branch');
  approx.output(nystromAttention(approx, q, k, v, d, inputs, plan), 'float32');
  return g.node('If', [inputs.exactWhen], { then_branch: attr.graph(exact), else_branch: attr.graph(approx) }, 'attended');
}
