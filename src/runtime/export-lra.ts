/**
 * ONNX export of the Long Range Arena classifier (models/lra/encoder.ts): one graph with the weights
 * as initializers, computing what the engine computes in float32, for every attention the encoder
 * takes (softmax, nystrom-m, linformer-k, performer-m).
 *
 * Inputs: input_ids, attention_mask (int64 [batch, sequence]); for the dual (Retrieval) encoder also
 * input_ids2, attention_mask2 (int64 [batch, sequence2]). Output: logits [batch, classes]. Any
 * sequence ≤ maxLength runs (longer fails at the node named for the position table).
 *
 * Legend: B batch, n tokens, D model dim, H heads, d = D/H head size, m landmarks (Nyström) or
 * random features (Performer), k Linformer's projected length; q, k, v are (B, H, n, d).
 */
import type { Tensor } from '../engine/index.js';
import { LRA_CONV, LRA_NYSTROM, parseAttention, type LraClassifier, type LraEncoder } from '../models/index.js';
import {
  CAST_FLOAT, depthwiseConv, exactAttention, MASK_NEG, nystromOrExact, dynamicPooling, transposeLast, type AttentionInputs,
} from './export-attention.js';
import { activation, layerNorm, linear, weight } from './export-layers.js';
import { attr, OnnxGraph } from './onnx-graph.js';

/** Serialises `model` (its current weights) to ONNX ModelProto bytes, IR version 8, opset 17. */
export function exportLraOnnx(model: LraClassifier): Uint8Array {
  return lraOnnxGraph(model).toModel();
}

/** The classifier's graph before serialisation (for writing its weights as external data). */
export function lraOnnxGraph(model: LraClassifier): OnnxGraph {
  // The export implements the official Nyström algorithm only (zeroed padding rows, uneven segments).
  if (LRA_NYSTROM.variant !== 'original' || LRA_NYSTROM.segments !== 'uneven') throw new Error('exportLraOnnx: unsupported LRA Nyström settings');
  const g = new OnnxGraph('lra-classifier');
  const document = (suffix: string, seq: string) => encoder(
    g, model.encoder, g.input(`input_ids${suffix}`, 'int64', ['batch', seq]), g.input(`attention_mask${suffix}`, 'int64', ['batch', seq]),
  );
  const x0 = document('', 'sequence'); // (B, D)
  let features = x0;
  if (model.dual) {
    // One encoder, run on each document: the weights are stored once (export-layers.ts).
    const x1 = document('2', 'sequence2');
    features = g.node('Concat', [x0, x1, g.node('Mul', [x0, x1]), g.node('Sub', [x0, x1])], { axis: attr.int(1) }, 'pair_features'); // (B, 4D)
  }
  const hidden = g.node('Relu', [linear(g, model.hidden, features, 'hidden')]); // (B, 128)
  g.output(g.node('Identity', [linear(g, model.output, hidden, 'output')], {}, 'logits'), 'float32', ['batch', model.config.classes]);
  return g;
}

/** What every layer of one document's encoder shares. */
interface DocumentInputs extends AttentionInputs {
  /** The sequence length as a 1-D int64 [n], for Slice. */
  length: string;
  /** (B, 1, n, 1) 0/1 rows. */
  rowMask: string;
}

/** ids, mask (B, n) int64 → the pooled final states (B, D), as LraEncoder.forward (see LraConfig.padTo). */
function encoder(g: OnnxGraph, model: LraEncoder, ids: string, mask: string): string {
  const { maxLength, attention, padTo } = model.config;
  if (padTo) {
    // masked padding up to padTo tokens (none past it: a longer input fails at the position table)
    const n = g.node('Gather', [g.node('Shape', [ids]), g.ints([1], [])], { axis: attr.int(0) });
    const extra = g.node('Max', [g.node('Sub', [g.ints([padTo], []), n]), g.ints([0], [])]);
    const pads = g.node('Concat', [g.ints([0, 0, 0]), g.node('Unsqueeze', [extra, g.ints([0])])], { axis: attr.int(0) }, 'pads'); // [0, 0, 0, padTo − n]
    [ids, mask] = [g.node('Pad', [ids, pads], {}, 'padded_ids'), g.node('Pad', [mask, pads], {}, 'padded_mask')];
  }
  const n = g.node('Gather', [g.node('Shape', [ids]), g.ints([1], [])], { axis: attr.int(0) }, 'n'); // int64 scalar
  const length = g.node('Unsqueeze', [n, g.ints([0])], {}, 'length'); // [n]
  const maskF = g.node('Cast', [mask], { to: attr.int(CAST_FLOAT) }, 'mask'); // (B, n)
  const kind = parseAttention(attention);
  const landmarks = kind.name === 'nystrom' ? kind.size : null;
  const inputs: DocumentInputs = {
    length,
    // (1 − mask)·(−1e9) → (B, 1, 1, n)
    keyBias: g.node('Unsqueeze', [g.node('Mul', [g.node('Sub', [g.floats([1]), maskF]), g.floats([MASK_NEG])]), g.ints([1, 2])], {}, 'key_bias'),
    rowMask: g.node('Unsqueeze', [maskF, g.ints([1, 3])], {}, 'row_mask'),
    pooling: landmarks === null ? null : dynamicPooling(g, n, landmarks),
    // m ≥ n: every token is its own landmark and the engine attends exactly
    exactWhen: landmarks === null ? null : g.node('GreaterOrEqual', [g.ints([landmarks], []), n], {}, 'exact_when'),
  };

  const tokens = g.node('Gather', [weight(g, 'tokens', model.tokens.weight), ids], { axis: attr.int(0) }); // (B, n, D)
  const positions = g.node('Slice', [weight(g, 'positions', model.positions.weight), g.ints([0]), length, g.ints([0])]); // rows 0 … n−1 (n, D)
  const tooLong = `position embeddings (an input longer than maxLength = ${maxLength} tokens fails here)`;
  let x = g.node('Add', [tokens, positions], {}, 'embeddings', tooLong);
  model.blocks.items.forEach((block, i) => {
    const name = `block${i}`;
    // pre-LN: x + Attention(LN₁(x)), then + FFN(LN₂(·)); dropout is the identity at inference
    const normed = layerNorm(g, block.norm1, x, block.norm1.eps, `${name}_norm1`);
    const attended = g.node('Add', [x, selfAttention(g, block.attention, normed, inputs, name)], {}, `${name}_attended`);
    const inner = activation(g, 'gelu', linear(g, block.ffnIn, layerNorm(g, block.norm2, attended, block.norm2.eps, `${name}_norm2`), `${name}_ffn_in`));
    x = g.node('Add', [attended, linear(g, block.ffnOut, inner, `${name}_ffn_out`)], {}, `${name}_out`);
  });
  const weights = g.node('Unsqueeze', [maskF, g.ints([2])], {}, 'pool_weights'); // (B, n, 1)
  const final = layerNorm(g, model.finalNorm, x, model.finalNorm.eps, 'final_norm');
  const total = g.node('ReduceSum', [g.node('Mul', [final, weights]), g.ints([1])], { keepdims: attr.int(0) }, 'pool_total'); // (B, D)
  // padTo: the mean over all n positions; else over the unmasked tokens, an all-padding row pooling to 0 (its count clamped to 1)
  const count = padTo
    ? g.node('Cast', [n], { to: attr.int(CAST_FLOAT) }, 'pool_count')
    : g.node('Max', [g.node('ReduceSum', [weights, g.ints([1])], { keepdims: attr.int(0) }), g.floats([1])], {}, 'pool_count'); // (B, 1)
  return g.node('Div', [total, count], {}, 'pooled');
}

type LraAttentionModule = LraEncoder['blocks']['items'][number]['attention'];

/** Projections, heads split, the block's attention, heads merged, output projection: (B, n, D) → (B, n, D). */
function selfAttention(g: OnnxGraph, a: LraAttentionModule, x: string, inputs: DocumentInputs, name: string): string {
  const H = a.heads;
  const D = a.query.weight.shape[0];
  const d = D / H;
  const split = (t: string, what: string) => g.node('Transpose', [g.node('Reshape', [t, g.ints([0, 0, H, d])])], { perm: attr.ints([0, 2, 1, 3]) }, `${name}_${what}`);
  const q = split(linear(g, a.query, x, `${name}_query`), 'q'); // (B, H, n, d)
  const k = split(linear(g, a.key, x, `${name}_key`), 'k');
  const v = split(linear(g, a.value, x, `${name}_value`), 'v');
  const kind = a.kind;
  let out: string;
  if (kind.name === 'softmax') out = exactAttention(g, q, k, v, d, inputs.keyBias);
  else if (kind.name === 'nystrom') {
    const plan = { numLandmarks: kind.size, pinvIterations: LRA_NYSTROM.pinvIterations, pinvInit: LRA_NYSTROM.pinvInit };
    const attended = nystromOrExact(g, q, k, v, d, inputs, plan);
    // + DWConv(V ⊙ mask), in both branches (attention/nystrom.ts: core and exactWithConv)
    const conv = depthwiseConv(g, g.node('Mul', [v, inputs.rowMask]), weight(g, `${name}_conv`, a.conv!.weight), H, LRA_CONV);
    out = g.node('Add', [attended, conv]);
  } else if (kind.name === 'linformer') out = linformer(g, a.projectKeys!, a.projectValues!, q, k, v, d, inputs, name);
  else out = performer(g, a.features!, q, k, v, d, inputs.rowMask, name);
  const merged = g.node('Reshape', [g.node('Transpose', [out], { perm: attr.ints([0, 2, 1, 3]) }), g.ints([0, 0, D])], {}, `${name}_context`);
  return linear(g, a.out, merged, `${name}_out`);
}

/**
 * softmax(Q·(E·K)ᵀ/√d)·(F·V) with padded rows of K and V zeroed (attention/linformer.ts); E and F
 * (k, maxLength) are cut to their first n columns.
 */
function linformer(
  g: OnnxGraph, e: Tensor, f: Tensor, q: string, k: string, v: string, d: number, inputs: DocumentInputs, name: string,
): string {
  const cut = (p: Tensor, what: string) => g.node('Slice', [weight(g, `${name}_${what}`, p), g.ints([0]), inputs.length, g.ints([1])], {}, `${name}_${what}_cut`); // (k, n)
  const keys = g.node('MatMul', [cut(e, 'E'), g.node('Mul', [k, inputs.rowMask])], {}, `${name}_projected_keys`); // (B, H, k, d)
  const values = g.node('MatMul', [cut(f, 'F'), g.node('Mul', [v, inputs.rowMask])], {}, `${name}_projected_values`);
  return exactAttention(g, q, keys, values, d, null);
}

/**
 * FAVOR+ (attention/performer.ts): with x scaled by d^-¼ and ω the rows of `features` (m, d),
 * φ(x) = exp(ω·x − ‖x‖²/2 − c)/√m, c the row max for queries and the max over all of a head's
 * keys (padded ones included, as the engine) for keys; padded keys get φ = 0;
 * out = φ(Q)·(φ(K)ᵀ·V) / (φ(Q)·Σₙφ(K)ᵀ).
 */
function performer(g: OnnxGraph, features: Tensor, q: string, k: string, v: string, d: number, rowMask: string, name: string): string {
  const m = features.shape[0];
  const omegaT = g.node('Transpose', [weight(g, `${name}_features`, features)], { perm: attr.ints([1, 0]) }); // (d, m)
  const phi = (x: string, stabiliserAxes: number[], what: string) => {
    const xs = g.node('Mul', [x, g.floats([d ** -0.25])]);
    const projected = g.node('MatMul', [xs, omegaT], {}, `${name}_${what}_projected`); // (B, H, n, m)
    const halfNorm = g.node('Mul', [g.node('ReduceSum', [g.node('Mul', [xs, xs]), g.ints([-1])], { keepdims: attr.int(1) }), g.floats([0.5])]); // (B, H, n, 1)
    const shift = g.node('ReduceMax', [projected], { axes: attr.ints(stabiliserAxes), keepdims: attr.int(1) }, `${name}_${what}_shift`);
    const exponent = g.node('Sub', [g.node('Sub', [projected, halfNorm]), shift]);
    return g.node('Mul', [g.node('Exp', [exponent]), g.floats([1 / Math.sqrt(m)])], {}, `${name}_phi_${what}`);
  };
  const phiQ = phi(q, [3], 'q'); // shift (B, H, n, 1)
  const phiK = g.node('Mul', [phi(k, [2, 3], 'k'), rowMask], {}, `${name}_phi_k_masked`); // shift (B, H, 1, 1)
  const kv = g.node('MatMul', [transposeLast(g, phiK), v], {}, `${name}_kv`); // (B, H, m, d)
  const numerator = g.node('MatMul', [phiQ, kv]); // (B, H, n, d)
  const kSum = transposeLast(g, g.node('ReduceSum', [phiK, g.ints([2])], { keepdims: attr.int(1) })); // (B, H, m, 1)
  const denominator = g.node('MatMul', [phiQ, kSum]); // (B, H, n, 1)
  return g.node('Div', [numerator, denominator], {}, `${name}_attended`);
}
