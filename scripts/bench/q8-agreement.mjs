// How far 8-bit models stray from float32: for each masked-LM folder given (or a random one of BERT-base
// size with --random), max |Δ| of logits and last hidden states over sequences of random tokens, and
// how often the top-1 token, and the top-5 set, of a masked position agree. One JSON line per model.
//
//   node scripts/bench/q8-agreement.mjs [--random] [--sequences 20] [--length 128] [--runtime engine|onnx] [DIR…]
//
// Run after `npm run build` (it imports dist/).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { manualSeed, noGrad, NystromformerForMaskedLM, provideOnnxRuntime, Tensor, tidy } from '../../dist/src/index.js';

const { values, positionals } = parseArgs({
  options: {
    random: { type: 'boolean' }, sequences: { type: 'string', default: '20' }, length: { type: 'string', default: '128' },
    runtime: { type: 'string', default: 'engine' },
  },
  allowPositionals: true,
});
provideOnnxRuntime();
const sequences = Number(values.sequences);
const BERT_BASE = { vocab_size: 30522, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, max_position_embeddings: 512 };

/** The folder of a random BERT-base-sized masked LM (initializer_range 0.02), saved once. */
async function randomFolder() {
  manualSeed(1);
  const model = new NystromformerForMaskedLM(BERT_BASE);
  const dir = mkdtempSync(join(tmpdir(), 'q8-agreement-'));
  await model.save(dir);
  model.dispose();
  return dir;
}

function outputs(model, ids, n) {
  return noGrad(() => tidy(() => {
    const hidden = model.nystromformer.forward({ inputIds: Tensor.from(Int32Array.from(ids), [1, n], 'int32') }).lastHiddenState;
    return { logits: model.predict(hidden).toArray(), hidden: hidden.toArray() };
  }));
}

const topK = (row, k) => [...row.keys()].sort((a, b) => row[b] - row[a]).slice(0, k);
const maxAbs = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

for (const source of [...(values.random ? ['random'] : []), ...positionals]) {
  const dir = source === 'random' ? await randomFolder() : source;
  const fp32 = await NystromformerForMaskedLM.fromPretrained(dir, { runtime: values.runtime });
  const q8 = await NystromformerForMaskedLM.fromPretrained(dir, { runtime: values.runtime, dtype: 'q8' });
  const c = fp32.config;
  // Hugging Face's Nyström branch runs at exactly segment_means_seq_len tokens
  const fixed = c.num_landmarks !== c.segment_means_seq_len ? c.segment_means_seq_len : Infinity;
  const n = Math.min(Number(values.length), c.max_position_embeddings, fixed);
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const stats = { logits: 0, hidden: 0, logitRange: 0, top1: 0, top5: 0 };
  for (let s = 0; s < sequences; s++) {
    const ids = Array.from({ length: n }, () => 5 + Math.floor(next() * (c.vocab_size - 5)));
    const a = outputs(fp32, ids, n);
    const b = outputs(q8, ids, n);
    stats.logits = Math.max(stats.logits, maxAbs(b.logits, a.logits));
    stats.hidden = Math.max(stats.hidden, maxAbs(b.hidden, a.hidden));
    stats.logitRange = Math.max(stats.logitRange, a.logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    // one position per sequence, as a fill-mask reads it
    const p = Math.floor(next() * n);
    const rowA = a.logits.subarray(p * c.vocab_size, (p + 1) * c.vocab_size);
    const rowB = b.logits.subarray(p * c.vocab_size, (p + 1) * c.vocab_size);
    const [ta, tb] = [topK(rowA, 5), topK(rowB, 5)];
    if (ta[0] === tb[0]) stats.top1++;
    if (ta.every((t) => tb.includes(t))) stats.top5++;
  }
  console.log(JSON.stringify({
    bench: 'q8-agreement', model: source, runtime: values.runtime, sequences, n, max_abs_diff_logits: stats.logits,
    max_abs_logit: stats.logitRange, max_abs_diff_hidden: stats.hidden, top1_agree: stats.top1 / sequences, top5_same_set: stats.top5 / sequences,
  }));
  fp32.dispose();
  q8.dispose();
  if (source === 'random') rmSync(dir, { recursive: true });
}
