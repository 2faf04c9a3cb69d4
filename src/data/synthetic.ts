/**
 * The embedded default task, generated deterministically so that `nystromformer train` runs with no
 * download: each sequence is random filler tokens with some occurrences of two marker tokens, and
 * the label says which marker occurs more often. Deciding needs the whole sequence (a count over
 * all positions), which is what attention must learn to aggregate.
 */
import { seededRandom } from '../engine/seeded.js'; // (not the engine index: data generation needs no kernels)

export interface TokenExample {
  inputIds: number[];
  tokenTypeIds?: number[];
  /** A second sequence encoded on its own (LRA Retrieval's dual encoder). */
  inputIds2?: number[];
  /** A class id (a float for regression), or one id per token with −100 where ignored (MLM). */
  label: number | number[];
}

export interface MajorityTaskOptions {
  count: number;
  seed: number;
  minLength?: number;
  maxLength?: number;
  /** Token ids: [CLS] = 2, [SEP] = 3, markers 5 and 6, filler from 7 up to vocabSize − 1. */
  vocabSize?: number;
}

export const MAJORITY = { cls: 2, sep: 3, markers: [5, 6] as const, labels: ['more-5', 'more-6'] };

export function majorityTask(o: MajorityTaskOptions): TokenExample[] {
  const { count, seed, minLength = 48, maxLength = 128, vocabSize = 64 } = o;
  const next = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return Array.from({ length: count }, () => {
    const n = int(minLength, maxLength) - 2;
    const tokens = Array.from({ length: n }, () => int(7, vocabSize - 1));
    const total = int(3, Math.max(3, Math.floor(n / 4)));
    // an odd difference of at least one, so there is always a majority
    const first = int(0, total);
    const second = Math.min(n - first, first === total - first ? total - first + 1 : total - first);
    const slots = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = int(0, i);
      [slots[i], slots[j]] = [slots[j], slots[i]];
    }
    slots.slice(0, first).forEach((p) => (tokens[p] = MAJORITY.markers[0]));
    slots.slice(first, first + second).forEach((p) => (tokens[p] = MAJORITY.markers[1]));
    return { inputIds: [MAJORITY.cls, ...tokens, MAJORITY.sep], label: first > second ? 0 : 1 } satisfies TokenExample;
  });
}
