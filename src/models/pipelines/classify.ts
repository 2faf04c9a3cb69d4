/** classify: labels with scores for a text or a text pair, by the model's problem type. */
import { readResult } from '../../engine/index.js';
import type { Tokenizer } from '../../io/tokenizer.js';
import { NystromformerForSequenceClassification } from '../nystromformer/index.js';
import { encodeFor, EncodeOptions, toInputs } from './encode.js';
import { topIndices } from './fill-mask.js';

export interface ClassifyResult {
  label: string;
  /** Softmax probability (single-label), sigmoid (multi-label) or the raw value (regression). */
  score: number;
}

/** Labels by decreasing score (all of them unless topK). */
export async function classify(
  model: NystromformerForSequenceClassification, tokenizer: Tokenizer, input: string | readonly [string, string],
  options: EncodeOptions & { topK?: number } = {},
): Promise<ClassifyResult[]> {
  const logits = (await readResult(() => model.forward(toInputs(encodeFor(model, tokenizer, input, options))).logits)) as Float32Array;
  const scores = labelScores(model, logits);
  return topIndices(scores, options.topK ?? scores.length).map((i) => ({ label: labelName(model, i), score: scores[i] }));
}

/** One input's logits as scores, by the model's problem type (label order). */
export function labelScores(model: NystromformerForSequenceClassification, logits: Float32Array): number[] {
  const type = model.problemType();
  return type === 'regression' ? Array.from(logits)
    : type === 'multi_label_classification' ? Array.from(logits, (x) => 1 / (1 + Math.exp(-x)))
      : softmaxOf(logits);
}

export const labelName = (model: NystromformerForSequenceClassification, i: number) => model.config.id2label[String(i)] ?? `LABEL_${i}`;

function softmaxOf(x: Float32Array): number[] {
  const top = Math.max(...x);
  const e = Array.from(x, (v) => Math.exp(v - top));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}
