/**
 * BERT's masking, with no file system (mlm.ts reads the text; the browser demo masks its page's
 * document): token streams are packed into sequences of the model's length ([CLS] … [SEP]); 15% of
 * the tokens are chosen; of those, 80% become [MASK], 10% a random token and 10% stay; the labels
 * are the original ids there and −100 (ignored) elsewhere. Masks are drawn once from the seed
 * (static masking), so a run and its resume see the same data.
 */
import { seededRandom } from '../engine/seeded.js'; // (not the engine index: data generation needs no kernels)
import type { Tokenizer } from '../io/tokenizer.js';

export interface MaskedExample {
  inputIds: number[];
  /** Per token: the id to predict, or −100. */
  label: number[];
}

export interface MaskingOptions {
  seqLen: number;
  clsId: number;
  sepId: number;
  maskId: number;
  vocabSize: number;
  /** Ids never chosen for masking or drawn as random replacements. */
  specialIds: readonly number[];
  seed: number;
  probability?: number;
}

/** Packs the token stream of each line into sequences and masks them. */
export function maskedExamples(lines: readonly number[][], o: MaskingOptions): MaskedExample[] {
  const body = o.seqLen - 2;
  if (body < 1) throw new Error(`MLM: sequence length ${o.seqLen} leaves no room between [CLS] and [SEP]`);
  const stream = lines.flat();
  const rand = seededRandom(o.seed);
  const special = new Set(o.specialIds);
  const p = o.probability ?? 0.15;
  const out: MaskedExample[] = [];
  for (let start = 0; start < stream.length; start += body) {
    const chunk = stream.slice(start, start + body);
    const inputIds = [o.clsId, ...chunk, o.sepId];
    const label = inputIds.map(() => -100);
    for (let i = 1; i <= chunk.length; i++) {
      if (special.has(inputIds[i]) || rand() >= p) continue;
      label[i] = inputIds[i];
      const r = rand();
      if (r < 0.8) inputIds[i] = o.maskId;
      else if (r < 0.9) {
        let t: number;
        do t = Math.floor(rand() * o.vocabSize); while (special.has(t));
        inputIds[i] = t;
      }
    }
    if (label.some((l) => l >= 0)) out.push({ inputIds, label });
  }
  return out;
}

/** Masked examples from raw text, each non-empty line a token stream, with the tokenizer's special ids: what `train --task mlm` and the browser demo train on. */
export function maskedTextExamples(tokenizer: Tokenizer, text: string, seqLen: number, seed: number): MaskedExample[] {
  const t = tokenizer;
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0).map((l) => t.encode(l, { addSpecialTokens: false }).inputIds);
  return maskedExamples(lines, {
    seqLen, clsId: t.clsTokenId, sepId: t.sepTokenId, maskId: t.maskTokenId, vocabSize: t.vocabSize,
    specialIds: [t.clsTokenId, t.sepTokenId, t.maskTokenId, t.padTokenId, t.unkTokenId], seed,
  });
}
