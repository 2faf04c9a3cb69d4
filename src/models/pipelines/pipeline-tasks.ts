/**
 * What `pipeline()` returns for each task: functions shaped as transformers.js's pipelines (its
 * result fields and defaults), on fillMask, classify and embed, which do the work.
 */
import { noGrad, Tensor, tidy } from '../../engine/index.js';
import type { Tokenizer } from '../../io/tokenizer.js';
import type { NystromformerForMaskedLM, NystromformerForSequenceClassification, NystromformerPreTrainedModel } from '../nystromformer/index.js';
import { classify, type ClassifyResult } from './classify.js';
import { embed, unit } from './embed.js';
import { baseModelOf, encodeBatchFor, toInputs, type EncodeOptions } from './encode.js';
import { asCandidate, fillMask, type FillMaskCandidate } from './fill-mask.js';

/** What every pipeline holds besides being callable. */
export interface PipelineParts<M extends NystromformerPreTrainedModel> {
  readonly task: string;
  readonly model: M;
  readonly tokenizer: Tokenizer;
  /** Frees the model's weights (and its onnxruntime session with runtime 'onnx'). */
  dispose(): Promise<void>;
}

export interface FillMaskCallOptions extends EncodeOptions {
  /** Candidates per mask (default 5). */
  topK?: number;
}

/**
 * For a text with one mask, its candidates, best first (as transformers.js); with several masks, one
 * list per mask in text order (as Hugging Face's Python pipeline). An array of texts gives one such
 * result per text.
 */
export interface FillMaskPipeline extends PipelineParts<NystromformerForMaskedLM> {
  (text: string, options?: FillMaskCallOptions): Promise<FillMaskCandidate[] | FillMaskCandidate[][]>;
  (texts: readonly string[], options?: FillMaskCallOptions): Promise<(FillMaskCandidate[] | FillMaskCandidate[][])[]>;
}

/** A text, or a text pair as transformers.js passes one. */
export type ClassificationInput = string | { text: string; text_pair?: string };

export interface TextClassificationCallOptions extends EncodeOptions {
  /** Labels returned, best first (default 1, as transformers.js; null: all of them). */
  topK?: number | null;
}

/**
 * The topK labels of an input, best first, as `{ label, score }` (softmax, sigmoid for multi-label
 * models, the raw value for regression); an array of inputs gives one list per input.
 */
export interface TextClassificationPipeline extends PipelineParts<NystromformerForSequenceClassification> {
  (input: ClassificationInput, options?: TextClassificationCallOptions): Promise<ClassifyResult[]>;
  (inputs: readonly ClassificationInput[], options?: TextClassificationCallOptions): Promise<ClassifyResult[][]>;
}

export interface FeatureExtractionCallOptions extends EncodeOptions {
  /** 'none' (default, as transformers.js): every token's vector; 'mean' over the tokens; 'cls': token 0. */
  pooling?: 'none' | 'mean' | 'cls';
  /** Scale each vector to unit length (default false, as transformers.js). */
  normalize?: boolean;
}

/**
 * An engine Tensor (dispose it, or create it inside `tidy`): [batch, hidden] when pooled, [batch, n,
 * hidden] with pooling 'none' (texts padded to the longest, as transformers.js pads them). Its
 * `shape` and `toArray()` are transformers.js's `dims` and `data`. Pooled texts run one at a time,
 * so no text is padded and a long one costs O(n) with attention 'nystrom'.
 */
export interface FeatureExtractionPipeline extends PipelineParts<NystromformerPreTrainedModel> {
  (texts: string | readonly string[], options?: FeatureExtractionCallOptions): Promise<Tensor>;
}

const ENCODE_KEYS = ['truncation', 'maxLength'];

/** Fails on an option the call does not take, pointing from a transformers.js spelling (top_k) to this one's (topK). */
export function checkOptionKeys(options: object, known: readonly string[], where: string): void {
  if (options === null || typeof options !== 'object') throw new Error(`${where}: options must be an object, got ${String(options)}`);
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const hint = camel !== key && known.includes(camel) ? ` (did you mean '${camel}'?)` : '';
    throw new Error(`${where}: unknown option '${key}'${hint}; the options are ${known.join(', ')}`);
  }
}

function checkTopK(topK: unknown, where: string): void {
  if (topK !== undefined && !(Number.isInteger(topK) && (topK as number) >= 1)) throw new Error(`${where}: topK must be a positive integer, got ${String(topK)}`);
}

/** Texts from a string or an array of strings; `where` names the pipeline in errors. */
function textsOf(input: unknown, where: string): string[] {
  const list = typeof input === 'string' ? [input] : Array.isArray(input) ? input : null;
  if (!list || list.some((t) => typeof t !== 'string')) throw new Error(`${where}: expected a text or an array of texts, got ${JSON.stringify(input)}`);
  return list;
}

/** The function pipeline('fill-mask') returns. */
export function fillMaskCall(model: NystromformerForMaskedLM, tokenizer: Tokenizer) {
  return async (input: string | readonly string[], options: FillMaskCallOptions = {}) => {
    checkOptionKeys(options, ['topK', ...ENCODE_KEYS], 'fill-mask');
    checkTopK(options.topK, 'fill-mask');
    const results = [];
    for (const text of textsOf(input, 'fill-mask')) {
      const perMask = (await fillMask(model, tokenizer, text, options)).map((candidates) => candidates.map(asCandidate));
      results.push(perMask.length === 1 ? perMask[0] : perMask);
    }
    return typeof input === 'string' ? results[0] : results;
  };
}

/** The function pipeline('text-classification') returns. */
export function textClassificationCall(model: NystromformerForSequenceClassification, tokenizer: Tokenizer) {
  return async (input: ClassificationInput | readonly ClassificationInput[], options: TextClassificationCallOptions = {}) => {
    checkOptionKeys(options, ['topK', ...ENCODE_KEYS], 'text-classification');
    const { topK = 1 } = options;
    if (topK !== null) checkTopK(topK, 'text-classification');
    const one = (x: ClassificationInput): Promise<ClassifyResult[]> => {
      const pair = typeof x === 'object' && x !== null && typeof x.text === 'string';
      if (typeof x !== 'string' && !pair) throw new Error(`text-classification: expected a text or { text, text_pair }, got ${JSON.stringify(x)}`);
      const text = typeof x === 'string' ? x : x.text_pair === undefined ? x.text : [x.text, x.text_pair] as const;
      return classify(model, tokenizer, text, { ...options, topK: topK ?? undefined });
    };
    if (!Array.isArray(input)) return one(input as ClassificationInput);
    const all: ClassifyResult[][] = [];
    for (const x of input) all.push(await one(x));
    return all;
  };
}

/** The function pipeline('feature-extraction') returns. */
export function featureExtractionCall(model: NystromformerPreTrainedModel, tokenizer: Tokenizer) {
  return async (input: string | readonly string[], options: FeatureExtractionCallOptions = {}): Promise<Tensor> => {
    checkOptionKeys(options, ['pooling', 'normalize', ...ENCODE_KEYS], 'feature-extraction');
    const { pooling = 'none', normalize = false } = options;
    const texts = textsOf(input, 'feature-extraction');
    if (pooling === 'mean' || pooling === 'cls') {
      const vectors = await embed(model, tokenizer, texts, { ...options, pooling, normalize });
      const h = model.config.hidden_size;
      const data = new Float32Array(texts.length * h);
      vectors.forEach((v, i) => data.set(v, i * h));
      return Tensor.from(data, [texts.length, h]);
    }
    if (pooling !== 'none') throw new Error(`feature-extraction: pooling must be 'none', 'mean' or 'cls', got '${String(pooling)}'`);
    const batch = encodeBatchFor(model, tokenizer, texts, options);
    const hidden = noGrad(() => tidy(() => baseModelOf(model).forward(toInputs(batch)).lastHiddenState));
    if (!normalize) return hidden;
    const rows = (await hidden.read()) as Float32Array;
    const h = hidden.shape[2];
    for (let at = 0; at < rows.length; at += h) rows.set(unit(rows.subarray(at, at + h)), at);
    const out = Tensor.from(rows, hidden.shape);
    hidden.dispose();
    return out;
  };
}
