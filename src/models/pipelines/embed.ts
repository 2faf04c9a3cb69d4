/**
 * embed: one vector per document, from the [CLS] token or the mean over its tokens. Documents run
 * one at a time, so a long one never pads the others; with attention 'nystrom' a document of
 * thousands of tokens costs O(n).
 */
import { readResult } from '../../engine/index.js';
import type { Tokenizer } from '../../io/tokenizer.js';
import { NystromformerPreTrainedModel } from '../nystromformer/index.js';
import { baseModelOf, encodeFor, EncodeOptions, toInputs } from './encode.js';

export interface EmbedOptions extends EncodeOptions {
  /** 'cls' (token 0) or 'mean' (over the document's tokens, the default). */
  pooling?: 'cls' | 'mean';
  /** Scale each vector to unit length (default true), so dot products are cosine similarities. */
  normalize?: boolean;
  /** Called after each document, for progress. */
  onProgress?: (done: number, total: number) => void;
}

export async function embed(model: NystromformerPreTrainedModel, tokenizer: Tokenizer, texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
  const { pooling = 'mean', normalize = true } = options;
  if (pooling !== 'cls' && pooling !== 'mean') throw new Error(`embed: pooling must be 'cls' or 'mean', got '${pooling}'`);
  const base = baseModelOf(model);
  const vectors: Float32Array[] = [];
  for (const [index, text] of texts.entries()) {
    const encoded = encodeFor(model, tokenizer, text, options);
    const hidden = (await readResult(() => base.forward(toInputs(encoded)).lastHiddenState)) as Float32Array;
    const n = encoded.inputIds[0].length;
    const h = hidden.length / n;
    const vector = pooling === 'cls' ? hidden.slice(0, h) : meanRows(hidden, n, h);
    options.onProgress?.(index + 1, texts.length);
    vectors.push(normalize ? unit(vector) : vector);
  }
  return vectors;
}

function meanRows(x: Float32Array, n: number, h: number): Float32Array {
  const out = new Float64Array(h);
  for (let i = 0; i < n; i++) for (let j = 0; j < h; j++) out[j] += x[i * h + j];
  return Float32Array.from(out, (v) => v / n);
}

/** `v` scaled to unit length (a zero vector stays zero). */
export function unit(v: Float32Array): Float32Array {
  const norm = Math.hypot(...v);
  return norm === 0 ? v : v.map((x) => x / norm);
}

/** Cosine similarity of two vectors. */
export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`cosineSimilarity: lengths ${a.length} and ${b.length} differ`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}
