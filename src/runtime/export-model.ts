/**
 * ONNX export of the Hugging Face Nyströmformer family: one graph with the weights as initializers,
 * computing what the engine computes (models/nystromformer/*.ts) in float32.
 *
 * Inputs: input_ids, attention_mask, token_type_ids (int64 [batch, sequence], [batch, num_choices,
 * sequence] for multiple choice; the last can be left out of the graph, which then uses type 0 as
 * the engine does without it). Outputs: last_hidden_state [batch, sequence, hidden] for the base
 * model, the heads' as export-heads.ts lists. Hugging Face's Nyström branch ('hf' with num_landmarks ≠
 * segment_means_seq_len) only handles segment_means_seq_len tokens, so there `sequence` is fixed.
 *
 * Not checked in the graph: ids outside the vocabulary (onnxruntime's Gather fails), inputs longer
 * than max_position_embeddings (fails at the node named for it), masks holding values other than 0/1.
 */
import type { Tensor } from '../engine/index.js';
import { attentionPlan, type AttentionPlan as Plan, type NystromformerConfig, type NystromformerModel, type NystromformerPreTrainedModel } from '../models/index.js';
import {
  CAST_FLOAT, depthwiseConv, dynamicPooling, exactAttention, fixedPooling, HF_MASK_NEG, MASK_NEG, nystromAttention, nystromOrExact,
  type AttentionInputs,
} from './export-attention.js';
import { headOf, hiddenStateOutput } from './export-heads.js';
import { activation, layerNorm, linear, weight, type LayerNormLike, type LinearLike } from './export-layers.js';
import { attr, OnnxGraph, type Dim } from './onnx-graph.js';

export interface ExportOptions {
  /** How attention is computed (default: the model's current mode, see setAttention). */
  attention?: 'hf' | 'nystrom' | 'softmax';
  /**
   * Give the graph a token_type_ids input (default true). An optional ONNX input would be an
   * overridable initializer, which onnxruntime warns about and cannot shape-check against a
   * fixed sequence length, so here it is either required or absent.
   */
  tokenTypeIds?: boolean;
  /**
   * Also output the encoder's last_hidden_state from a head model (not multiple choice), after the
   * head's outputs: transformers.js's feature-extraction reads it before `logits` (default false).
   */
  lastHiddenState?: boolean;
}

/** Hugging Face offsets position ids by the padding index + 1 (embeddings.ts). */
const POSITION_OFFSET = 2;

/**
 * Serialises `model` (its current weights) to ONNX ModelProto bytes, IR version 8, opset 17: the
 * base model, or a task head on it with the outputs transformers.js reads (export-heads.ts).
 */
export function exportOnnx(model: NystromformerPreTrainedModel, options: ExportOptions = {}): Uint8Array {
  return onnxGraph(model, options).toModel();
}

/** The model's graph before serialisation (for writing its weights as external data). */
export function onnxGraph(model: NystromformerPreTrainedModel, options: ExportOptions = {}): OnnxGraph {
  const head = headOf(model);
  const base = head.base;
  const plan = attentionPlan(base.config, base.attentionSettings, options.attention ?? base.attentionSettings.mode, 'exportOnnx: ');
  const g = new OnnxGraph('nystromformer');
  const seq: Dim = plan.kind === 'hf-nystrom' ? plan.length : 'sequence';
  // multiple choice: (B, C, n) inputs, encoded as (B·C, n)
  const dims: Dim[] = head.choices ? ['batch', 'num_choices', seq] : ['batch', seq];
  const declared = (name: string) => g.input(name, 'int64', dims);
  const flat = (x: string) => (head.choices ? g.node('Reshape', [x, g.node('Concat', [g.ints([-1]), g.node('Shape', [x], { start: attr.int(2) })], { axis: attr.int(0) })]) : x);
  const ids = declared('input_ids');
  const mask = flat(declared('attention_mask'));
  const types = options.tokenTypeIds === false ? null : flat(declared('token_type_ids'));
  const hidden = encoder(g, base, plan, flat(ids), mask, types);
  head.outputs(g, hidden, { ids, seq });
  if (options.lastHiddenState && base !== model && !head.choices) hiddenStateOutput(g, hidden, seq, base.config.hidden_size);
  return g;
}

/** The encoder on (B, n) int64 ids, mask and optional types → last hidden state (B, n, hidden). */
function encoder(g: OnnxGraph, model: NystromformerModel, plan: Plan, ids: string, mask: string, types: string | null): string {
  const config = model.config;
  const n = g.node('Gather', [g.node('Shape', [ids]), g.ints([1], [])], { axis: attr.int(0) }, 'n'); // int64 scalar
  const maskF = g.node('Cast', [mask], { to: attr.int(CAST_FLOAT) }, 'mask'); // (B, n)
  const hfMasking = plan.kind === 'hf-nystrom';
  const inputs: AttentionInputs = {
    // (1 − mask)·neg → (B, 1, 1, n)
    keyBias: g.node('Unsqueeze', [
      g.node('Mul', [g.node('Sub', [g.floats([1]), maskF]), g.floats([hfMasking ? HF_MASK_NEG : MASK_NEG])]), g.ints([1, 2]),
    ], {}, 'key_bias'),
    // Only the paper's algorithm zeroes padded rows (of Q, K and the conv's V).
    rowMask: plan.kind === 'nystrom' ? g.node('Unsqueeze', [maskF, g.ints([1, 3])], {}, 'row_mask') : null,
    pooling: plan.kind === 'nystrom' ? dynamicPooling(g, n, plan.numLandmarks)
      // m ≥ n: the exact branch, no landmarks
      : plan.kind === 'hf-nystrom' && plan.numLandmarks < plan.length ? fixedPooling(g, plan.length, plan.numLandmarks) : null,
    // m ≥ n: every token is its own landmark and the engine attends exactly
    exactWhen: plan.kind === 'nystrom' ? g.node('GreaterOrEqual', [g.ints([plan.numLandmarks], []), n], {}, 'exact_when') : null,
  };

  let hidden = embeddings(g, model, ids, types, n);
  model.encoder.layer.items.forEach((layer, i) => {
    const self = layer.attention.self;
    const context = selfAttention(g, config, self, hidden, inputs, plan, i);
    const attended = residualOutput(g, layer.attention.output, context, hidden, config.layer_norm_eps, `layer${i}_attention_output`);
    const inner = activation(g, config.hidden_act, linear(g, layer.intermediate.dense, attended, `layer${i}_intermediate`));
    hidden = residualOutput(g, layer.output, inner, attended, config.layer_norm_eps, `layer${i}_output`);
  });
  return hidden;
}

/** Word + token-type + position embeddings (positions 2 … n+1), LayerNorm. */
function embeddings(g: OnnxGraph, model: NystromformerModel, ids: string, types: string | null, n: string): string {
  const e = model.embeddings;
  const words = g.node('Gather', [weight(g, 'word_embeddings', e.wordEmbeddings.weight), ids], { axis: attr.int(0) }); // (B,n,h)
  const typeTable = e.tokenTypeEmbeddings.weight;
  const typeRows = types
    ? g.node('Gather', [weight(g, 'token_type_embeddings', typeTable), types], { axis: attr.int(0) }) // (B,n,h)
    : g.weight('token_type_0', (typeTable.toArray() as Float32Array).slice(0, typeTable.shape[1]), [1, typeTable.shape[1]]); // broadcast
  const end = g.node('Add', [g.node('Unsqueeze', [n, g.ints([0])]), g.ints([POSITION_OFFSET])]);
  const positions = g.node('Slice', [weight(g, 'position_embeddings', e.positionEmbeddings.weight), g.ints([POSITION_OFFSET]), end, g.ints([0])]); // (n,h)
  const tooLong = `position embeddings (an input longer than max_position_embeddings = ${model.config.max_position_embeddings} tokens fails here)`;
  const sum = g.node('Add', [g.node('Add', [words, typeRows]), positions], {}, 'embeddings_sum', tooLong);
  return layerNorm(g, e.norm, sum, model.config.layer_norm_eps, 'embeddings');
}

interface SelfAttentionLike {
  query: LinearLike; key: LinearLike; value: LinearLike;
  conv: { weight: Tensor } | null;
  heads: number;
}

/** Projections, heads split, attention, the conv on V, heads merged: (B, n, hidden) → (B, n, hidden). */
function selfAttention(
  g: OnnxGraph, config: NystromformerConfig, self: SelfAttentionLike, x: string, inputs: AttentionInputs, plan: Plan, index: number,
): string {
  const H = self.heads;
  const d = config.hidden_size / H;
  const name = `layer${index}`;
  const split = (t: string, what: string) => g.node('Transpose', [g.node('Reshape', [t, g.ints([0, 0, H, d])])], { perm: attr.ints([0, 2, 1, 3]) }, `${name}_${what}`);
  const q = split(linear(g, self.query, x, `${name}_query`), 'q'); // (B,H,n,d)
  const k = split(linear(g, self.key, x, `${name}_key`), 'k');
  const v = split(linear(g, self.value, x, `${name}_value`), 'v');
  let out: string;
  if (plan.kind === 'dense') out = exactAttention(g, q, k, v, d, inputs.keyBias);
  else if (plan.kind === 'nystrom') out = nystromOrExact(g, q, k, v, d, inputs, plan);
  else if (plan.numLandmarks >= plan.length) out = exactAttention(g, q, k, v, d, inputs.keyBias);
  else out = nystromAttention(g, q, k, v, d, inputs, plan);
  if (self.conv) {
    // The paper's algorithm convolves V ⊙ mask; Hugging Face (and exact attention) the raw V.
    const convIn = inputs.rowMask ? g.node('Mul', [v, inputs.rowMask]) : v;
    const w = weight(g, `${name}_conv`, self.conv.weight);
    out = g.node('Add', [out, depthwiseConv(g, convIn, w, H, self.conv.weight.shape[2])]);
  }
  const merged = g.node('Transpose', [out], { perm: attr.ints([0, 2, 1, 3]) });
  return g.node('Reshape', [merged, g.ints([0, 0, config.hidden_size])], {}, `${name}_context`);
}

/** dense → LayerNorm(· + residual) (dropout is the identity at inference). */
function residualOutput(g: OnnxGraph, block: { dense: LinearLike; norm: LayerNormLike }, x: string, residual: string, eps: number, name: string): string {
  return layerNorm(g, block.norm, g.node('Add', [linear(g, block.dense, x, `${name}_dense`), residual]), eps, name);
}
