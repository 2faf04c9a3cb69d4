/**
 * What the demo computes, on token ids (the page tokenizes): a model from its files, fill-mask
 * candidates or label probabilities, document embeddings, one head's Nyström attention, and
 * attention timings. Runs in the demo's Web Worker; host-neutral, so Node runs it too.
 *
 * Shapes: n tokens, m landmarks, H heads, d head size, r ≤ n rows/columns drawn in the heat map.
 */
import {
  matmul, mulScalar, nystromAttention, nystromAttentionWithFactors, parseSafetensors, permute, randn, readResult, reshape, slice, softmax,
  softmaxAttention, take, Tensor, tidy, timeCalls, transpose, NystromformerForMaskedLM, NystromformerForSequenceClassification,
} from './core.js';
import { isKnown } from '../io/lookup.js';
import { toInputs } from '../models/pipelines/encode.js';
import { topIndices } from '../models/pipelines/fill-mask.js';
import { labelName, labelScores, type ClassifyResult } from '../models/pipelines/classify.js';

export interface ModelFiles {
  /** config.json, parsed. */
  config: Record<string, unknown>;
  /** model.safetensors' bytes. */
  weights: Uint8Array;
}

/** The heads the demo shows: fill-mask for a masked LM, label probabilities for a classifier. */
export type DemoModel = NystromformerForMaskedLM | NystromformerForSequenceClassification;
const DEMO_HEADS = { NystromformerForMaskedLM, NystromformerForSequenceClassification } as const;

/** The model config.json names (a masked LM when it names none), attending with linear Nyström attention at any length. */
export function loadDemoModel(files: ModelFiles, numLandmarks?: number): DemoModel {
  const names = files.config.architectures;
  const name = Array.isArray(names) && typeof names[0] === 'string' ? names[0] : 'NystromformerForMaskedLM';
  if (!isKnown(DEMO_HEADS, name)) {
    throw new Error(`config.json: the demo runs ${Object.keys(DEMO_HEADS).join(' and ')} models, and this one is ${name}`);
  }
  let model: DemoModel;
  try {
    model = new DEMO_HEADS[name](files.config, { attention: 'nystrom', numLandmarks });
  } catch (e) {
    throw new Error(`config.json: ${(e as Error).message.replace(/^config: /, '')}`); // name the file the visitor picked
  }
  try {
    const report = model.loadWeights(parseSafetensors(files.weights, 'model.safetensors').tensors, 'model.safetensors');
    if (report.missingKeys.length > 0) throw new Error(`model.safetensors lacks ${report.missingKeys.join(', ')}`);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** One encoded text, as the tokenizer returns it (batch of one). */
const single = (ids: readonly number[]) => toInputs({ inputIds: [[...ids]], attentionMask: [ids.map(() => 1)], tokenTypeIds: [ids.map(() => 0)] });

export interface MaskCandidates {
  position: number;
  tokens: number[];
  scores: number[];
}

/** The topK most likely tokens at each mask position (the fill-mask pipeline's numbers). */
export async function fillMaskIds(model: NystromformerForMaskedLM, ids: readonly number[], maskId: number, topK = 5): Promise<MaskCandidates[]> {
  const positions = ids.flatMap((id, i) => (id === maskId ? [i] : []));
  if (positions.length === 0) return [];
  const probs = (await readResult(() => {
    const hidden = model.nystromformer.forward(single(ids)).lastHiddenState; // (1, n, hidden)
    const rows = take(reshape(hidden, [ids.length, -1]), Tensor.from(Int32Array.from(positions), [positions.length], 'int32'));
    return softmax(model.predict(rows)); // (masks, V)
  })) as Float32Array;
  const V = model.config.vocab_size;
  return positions.map((position, j) => {
    const row = probs.subarray(j * V, (j + 1) * V);
    const tokens = topIndices(row, topK);
    return { position, tokens, scores: tokens.map((t) => row[t]) };
  });
}

/** The classifier's scores for a text, in label order (the classify pipeline's numbers). */
export async function classifyIds(model: NystromformerForSequenceClassification, ids: readonly number[]): Promise<ClassifyResult[]> {
  const logits = (await readResult(() => model.forward(single(ids)).logits)) as Float32Array;
  return labelScores(model, logits).map((score, i) => ({ label: labelName(model, i), score }));
}

/** A document's vector: the mean of its last hidden states, unit length (the embed pipeline's default). */
export async function embedIds(model: DemoModel, ids: readonly number[]): Promise<Float32Array> {
  const hidden = (await readResult(() => model.nystromformer.forward(single(ids)).lastHiddenState)) as Float32Array;
  const n = ids.length;
  const h = hidden.length / n;
  const sum = new Float64Array(h);
  for (let i = 0; i < n; i++) for (let j = 0; j < h; j++) sum[j] += hidden[i * h + j];
  const mean = Float32Array.from(sum, (v) => v / n);
  const norm = Math.hypot(...mean);
  return norm === 0 ? mean : mean.map((x) => x / norm);
}

export interface HeadAttention {
  n: number;
  /** Landmarks used (m ≥ n means exact attention). */
  m: number;
  /** Rows and columns drawn: the top-left r×r block of the n×n attention matrix. */
  r: number;
  /** (r, r) row-major: (F·Z)[:r] · B[:, :r], or exact softmax probabilities when m ≥ n. */
  values: Float32Array;
}

/** One head's attention matrix in one layer, rebuilt from the Nyström factors for its first r tokens. */
export async function headAttention(model: DemoModel, ids: readonly number[], layer: number, head: number, maxR = 256): Promise<HeadAttention> {
  const base = model.nystromformer;
  const layers = base.encoder.layer.items;
  const self = layers[layer]?.attention.self;
  if (!self) throw new Error(`headAttention: layer ${layer} is not in 0..${layers.length - 1}`);
  if (!Number.isInteger(head) || head < 0 || head >= self.heads) throw new Error(`headAttention: head ${head} is not in 0..${self.heads - 1}`);
  const n = ids.length;
  const r = Math.min(n, maxR);
  const m = model.attentionSettings.numLandmarks;
  const values = (await readResult(() => {
    const x = base.forward(single(ids), { outputHiddenStates: true }).hiddenStates![layer]; // layer's input (1, n, hidden)
    const hidden = x.shape[2];
    // (1, n, hidden) → (1, H, n, d), then this head only: (1, 1, n, d)
    const split = (t: Tensor) => slice(permute(reshape(t, [1, n, self.heads, hidden / self.heads]), [0, 2, 1, 3]), 1, head, head + 1);
    const [q, k, v] = [self.query, self.key, self.value].map((lin) => split(lin.forward(x)));
    const { pinvInit, pinvIterations } = model.attentionSettings;
    const { factors } = nystromAttentionWithFactors(q, k, v, { numLandmarks: m, pinvInit, pinvIterations });
    if (!factors) {
      // m ≥ n: Nyström attention is exact here; softmax(QKᵀ/√d) rows (1,1,r,n), first r columns.
      const probs = softmax(mulScalar(matmul(slice(q, 2, 0, r), transpose(k)), 1 / Math.sqrt(q.shape[3])));
      return slice(probs, 3, 0, r);
    }
    // (F·Z)[:r] (1,1,r,m) · B[:, :r] (1,1,m,r) → (1,1,r,r)
    return matmul(slice(factors.fz, 2, 0, r), slice(factors.b, 3, 0, r));
  })) as Float32Array;
  return { n, m, r, values };
}

export interface AttentionTiming {
  impl: 'nystrom' | 'softmax';
  n: number;
  ms: number;
  peakMb: number;
}

export interface TimingShape {
  heads: number;
  dim: number;
  landmarks: number;
  /** Nyström's depthwise conv on V (0 = none); `bench attention` uses 33. */
  conv: number;
  /** Least time spent per measurement, in seconds (at least 3 runs after a warm-up). */
  seconds: number;
}

/** `nystromformer bench attention`'s forward measurement (B = 1, random q, k, v): median ms and peak MiB. */
export async function timeAttention(impl: 'nystrom' | 'softmax', n: number, o: TimingShape): Promise<AttentionTiming> {
  const shape = [1, o.heads, n, o.dim];
  const [q, k, v] = [1, 2, 3].map((seed) => randn(shape, seed));
  const convWeight = impl === 'nystrom' && o.conv > 0 ? randn([o.heads, 1, o.conv, 1], 4, 0, 0.1) : undefined;
  try {
    const run = () => tidy(() => {
      if (impl === 'nystrom') nystromAttention(q, k, v, { numLandmarks: o.landmarks, convWeight });
      else softmaxAttention(q, k, v);
    });
    const { ms, peakMb } = await timeCalls(run, 3, o.seconds);
    return { impl, n, ms, peakMb };
  } finally {
    [q, k, v, ...(convWeight ? [convWeight] : [])].forEach((t) => t.dispose());
  }
}
