/** fillMask: the most likely tokens for each [MASK] in a text. Only masked rows go through the MLM head. */
import { readResult, reshape, softmax, take, Tensor } from '../../engine/index.js';
import type { Tokenizer } from '../../io/tokenizer.js';
import { NystromformerForMaskedLM } from '../nystromformer/index.js';
import { encodeFor, EncodeOptions, toInputs } from './encode.js';

export interface FillMaskResult {
  score: number;
  token: number;
  tokenStr: string;
  /** The text with this token in place of the mask. */
  sequence: string;
}

/** A candidate with transformers.js's field names (token_str), as pipeline() and the CLI's --json give it. */
export interface FillMaskCandidate {
  score: number;
  token: number;
  token_str: string;
  /** The text with this token in place of the mask, special tokens left out. */
  sequence: string;
}

/** A fillMask result with transformers.js's field names. */
export const asCandidate = ({ score, token, tokenStr, sequence }: FillMaskResult): FillMaskCandidate => ({ score, token, token_str: tokenStr, sequence });

/** One list of the topK candidates (default 5) per mask token in `text`, in text order. */
export async function fillMask(
  model: NystromformerForMaskedLM, tokenizer: Tokenizer, text: string, options: EncodeOptions & { topK?: number } = {},
): Promise<FillMaskResult[][]> {
  const topK = options.topK ?? 5;
  const encoded = encodeFor(model, tokenizer, text, options);
  const ids = encoded.inputIds[0];
  const maskId = tokenizer.maskTokenId;
  const positions = ids.flatMap((id, i) => (id === maskId ? [i] : []));
  if (positions.length === 0) throw new Error(`fillMask: the text has no mask token '${tokenizer.maskToken}'`);
  const probs = (await readResult(() => {
    const hidden = model.nystromformer.forward(toInputs(encoded)).lastHiddenState;
    const rows = take(reshape(hidden, [ids.length, -1]), Tensor.from(Int32Array.from(positions), [positions.length], 'int32'));
    return softmax(model.predict(rows));
  })) as Float32Array;
  const V = model.config.vocab_size;
  return positions.map((at, j) => {
    const row = probs.subarray(j * V, (j + 1) * V);
    return topIndices(row, topK).map((token) => {
      const filled = ids.slice();
      filled[at] = token;
      return { score: row[token], token, tokenStr: tokenizer.decode([token]), sequence: tokenizer.decode(filled, { skipSpecialTokens: true }) };
    });
  });
}

/** Indices of the k largest values, largest first. */
export function topIndices(values: ArrayLike<number>, k: number): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => values[b] - values[a]);
  return order.slice(0, Math.min(k, values.length));
}
