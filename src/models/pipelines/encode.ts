/** From tokenizer output to model inputs, and the base model of any Nyströmformer. */
import { Tensor } from '../../engine/index.js';
import type { Tokenizer } from '../../io/tokenizer.js';
import { NystromformerModel, NystromformerPreTrainedModel } from '../nystromformer/index.js';
import type { NystromformerInputs } from '../nystromformer/index.js';

export interface EncodedBatch {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
}

/** Int32 (B, n) tensors of a padded batch. */
export function toInputs(batch: EncodedBatch): NystromformerInputs {
  const B = batch.inputIds.length;
  const n = B === 0 ? 0 : batch.inputIds[0].length;
  const tensor = (rows: number[][]) => Tensor.from(Int32Array.from(rows.flat()), [B, n], 'int32');
  return { inputIds: tensor(batch.inputIds), attentionMask: tensor(batch.attentionMask), tokenTypeIds: tensor(batch.tokenTypeIds) };
}

/** Pipeline options shared by every task. */
export interface EncodeOptions {
  /** Cut inputs to the model's position table (or maxLength) instead of failing on long ones. */
  truncation?: boolean;
  /** Tokens per input including special tokens (default: the model's max_position_embeddings). */
  maxLength?: number;
}

/** Tokenizes one text or text pair for a model, truncating only when asked. */
export function encodeFor(
  model: NystromformerPreTrainedModel, tokenizer: Tokenizer, input: string | readonly [string, string], options: EncodeOptions = {},
): EncodedBatch {
  const [text, pair] = typeof input === 'string' ? [input, undefined] : input;
  const e = tokenizer.encode({ text, pair }, limitOf(model, options));
  return { inputIds: [e.inputIds], attentionMask: [e.attentionMask], tokenTypeIds: [e.tokenTypeIds] };
}

/** Tokenizes texts as one batch padded to the longest, truncating only when asked (as encodeFor). */
export function encodeBatchFor(
  model: NystromformerPreTrainedModel, tokenizer: Tokenizer, texts: readonly string[], options: EncodeOptions = {},
): EncodedBatch {
  return tokenizer.encodeBatch(texts, { ...limitOf(model, options), padding: 'longest' });
}

/** Truncation to maxLength (default: the position table) when asked; otherwise none, so that a long input fails clearly. */
function limitOf(model: NystromformerPreTrainedModel, options: EncodeOptions): { truncation: boolean; maxLength?: number } {
  const truncation = options.truncation === true;
  return { truncation, maxLength: truncation ? options.maxLength ?? model.config.max_position_embeddings : undefined };
}

/** The bare model inside any architecture. */
export function baseModelOf(model: NystromformerPreTrainedModel): NystromformerModel {
  if (model instanceof NystromformerModel) return model;
  const inner = (model as unknown as { nystromformer?: NystromformerModel }).nystromformer;
  if (!(inner instanceof NystromformerModel)) throw new Error(`${model.architecture} has no base Nyströmformer model`);
  return inner;
}
