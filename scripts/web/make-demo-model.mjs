// Writes web/models/tiny-mlm/: the small masked-language model the browser demo ships with.
// Random weights from a fixed seed (nothing is downloaded or trained): the demo's numbers are real
// computations, its predictions are not meaningful. The tokenizer is the test fixture's (ALBERT-style
// Unigram, 300 pieces), with model_max_length raised to the model's position table.
//   npx tsc -p . && node scripts/web/make-demo-model.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { manualSeed, NystromformerForMaskedLM, Tokenizer } from '../../dist/src/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const from = `${root}test/fixtures/tokenizer`;
const out = `${root}web/models/tiny-mlm`;
const MAX_POSITIONS = 4096;

const tokenizer = await Tokenizer.fromDir(from);
manualSeed(1);
const model = new NystromformerForMaskedLM({
  vocab_size: tokenizer.vocabSize,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 64,
  hidden_act: 'gelu_new',
  max_position_embeddings: MAX_POSITIONS,
  // HF runs its Nyström branch only at exactly this length; the demo uses attention 'nystrom' (any length).
  segment_means_seq_len: MAX_POSITIONS,
  num_landmarks: 32,
  conv_kernel_size: 33,
  // Ten times HF's usual 0.02, so that random attention is not uniform and the heat map shows structure.
  initializer_range: 0.2,
  pad_token_id: tokenizer.padTokenId,
  bos_token_id: tokenizer.clsTokenId,
  eos_token_id: tokenizer.sepTokenId,
  tie_word_embeddings: true,
});
await model.save(out);
model.dispose();

for (const name of ['tokenizer.json', 'special_tokens_map.json']) writeFileSync(`${out}/${name}`, readFileSync(`${from}/${name}`));
const config = JSON.parse(readFileSync(`${from}/tokenizer_config.json`, 'utf8'));
writeFileSync(`${out}/tokenizer_config.json`, JSON.stringify({ ...config, model_max_length: MAX_POSITIONS }, null, 2) + '\n');
console.log(`wrote ${out}`);
