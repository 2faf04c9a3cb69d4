/**
 * Length-bucketed dynamic padding: each epoch shuffles the examples (seeded by seed and epoch, so
 * the order can be rebuilt on resume), sorts pools of 32 batches by length so that a batch pads to
 * similar lengths (unless told not to), and shuffles the batches.
 */
import { seededRandom, Tensor } from '../engine/index.js';
import type { TokenExample } from '../data/synthetic.js';
import type { NystromformerInputs } from '../models/index.js';

const POOL_BATCHES = 32;

function shuffle<T>(xs: T[], rand: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** The batches (lists of example indices) of one epoch; `bucket` false leaves them in shuffled order (fixed-length inputs). */
export function epochBatches(lengths: readonly number[], batchSize: number, seed: number, epoch: number, bucket = true): number[][] {
  const rand = seededRandom(seed * 1000003 + epoch);
  const order = shuffle(lengths.map((_, i) => i), rand);
  const batches: number[][] = [];
  for (let p = 0; p < order.length; p += batchSize * POOL_BATCHES) {
    const pool = order.slice(p, p + batchSize * POOL_BATCHES);
    if (bucket) pool.sort((a, b) => lengths[a] - lengths[b]);
    for (let b = 0; b < pool.length; b += batchSize) batches.push(pool.slice(b, b + batchSize));
  }
  return shuffle(batches, rand);
}

/** A collated batch; `inputIds2`/`attentionMask2` when the examples are pairs encoded separately. */
export type Batch = NystromformerInputs & { attentionMask: Tensor; labels: Tensor; inputIds2?: Tensor; attentionMask2?: Tensor };

/** The tokens an example feeds the model (both sequences of a pair): batch lengths and throughput. */
export const exampleLength = (e: TokenExample) => Math.max(e.inputIds.length, e.inputIds2?.length ?? 0);

/** Sequences padded to the longest: int32 ids and 0/1 mask (B, n). */
function padded(sequences: readonly (readonly number[])[], padId: number): { ids: Tensor; mask: Tensor } {
  const n = Math.max(...sequences.map((s) => s.length));
  const B = sequences.length;
  const ids = new Int32Array(B * n).fill(padId);
  const mask = new Int32Array(B * n);
  sequences.forEach((s, b) => {
    ids.set(s, b * n);
    mask.fill(1, b * n, b * n + s.length);
  });
  return { ids: Tensor.from(ids, [B, n], 'int32'), mask: Tensor.from(mask, [B, n], 'int32') };
}

/** Pads a batch to its longest example: int32 ids, 0/1 mask, token types, labels (int32 per example or per token, float32 for regression). */
export function collate(examples: readonly TokenExample[], padId: number, regression = false): Batch {
  const n = Math.max(...examples.map((e) => e.inputIds.length));
  const B = examples.length;
  const first = padded(examples.map((e) => e.inputIds), padId);
  const types = new Int32Array(B * n);
  examples.forEach((e, b) => {
    if (e.tokenTypeIds) types.set(e.tokenTypeIds, b * n);
  });
  const pairs = examples.some((e) => e.inputIds2);
  if (pairs && !examples.every((e) => e.inputIds2)) throw new Error('collate: a batch mixes single sequences and pairs (inputIds2)');
  const second = pairs ? padded(examples.map((e) => e.inputIds2!), padId) : undefined;
  let labels: Tensor;
  if (examples.some((e) => Array.isArray(e.label))) {
    // per-token labels (MLM): padding is ignored (−100)
    const perToken = new Int32Array(B * n).fill(-100);
    examples.forEach((e, b) => perToken.set(e.label as number[], b * n));
    labels = Tensor.from(perToken, [B, n], 'int32');
  } else {
    const values = examples.map((e) => e.label as number);
    labels = regression ? Tensor.from(values, [B], 'float32') : Tensor.from(Int32Array.from(values), [B], 'int32');
  }
  return {
    inputIds: first.ids,
    attentionMask: first.mask,
    ...(examples.some((e) => e.tokenTypeIds) && { tokenTypeIds: Tensor.from(types, [B, n], 'int32') }),
    ...(second && { inputIds2: second.ids, attentionMask2: second.mask }),
    labels,
  };
}
