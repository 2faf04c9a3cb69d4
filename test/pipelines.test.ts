/** The pipelines agree with the models they wrap, on the test tokenizer (test/fixtures/tokenizer). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noGrad, softmax, Tensor, tidy } from '../src/engine/index.js';
import { Tokenizer } from '../src/io/tokenizer.js';
import { manualSeed } from '../src/nn/index.js';
import {
  classify, cosineSimilarity, embed, fillMask, NystromformerForMaskedLM, NystromformerForSequenceClassification,
} from '../src/models/index.js';
import { assertClose } from './check.js';

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');
const SMALL = { vocab_size: 300, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24, max_position_embeddings: 40, initializer_range: 0.5 };

const tokenizer = () => Tokenizer.fromDir(join(fixtures, 'tokenizer'));
const run = (model: NystromformerForMaskedLM | NystromformerForSequenceClassification, e: { inputIds: number[] }) =>
  noGrad(() => tidy(() => {
    const logits = model.forward({ inputIds: Tensor.from(Int32Array.from(e.inputIds), [1, e.inputIds.length], 'int32') }).logits;
    return softmax(logits).toArray() as Float32Array;
  }));

test('fillMask: the scores are the MLM softmax at each mask, best first, with the filled-in text', async () => {
  const tok = await tokenizer();
  manualSeed(11);
  const model = new NystromformerForMaskedLM(SMALL);
  const text = 'Paris is the [MASK] of France, a [MASK] film.';
  const results = fillMask(model, tok, text, { topK: 4 });
  assert.equal(results.length, 2);
  const e = tok.encode(text);
  const probs = run(model, e);
  const positions = e.inputIds.flatMap((id, i) => (id === tok.maskTokenId ? [i] : []));
  results.forEach((candidates, j) => {
    const row = probs.subarray(positions[j] * 300, (positions[j] + 1) * 300);
    const best = Array.from(row.keys()).sort((a, b) => row[b] - row[a]).slice(0, 4);
    assert.deepEqual(candidates.map((c) => c.token), best);
    assertClose(candidates.map((c) => c.score), best.map((t) => row[t]), { rtol: 1e-5, atol: 1e-7 }, 'scores');
    const filled = e.inputIds.slice();
    filled[positions[j]] = best[0];
    assert.equal(candidates[0].sequence, tok.decode(filled, { skipSpecialTokens: true }));
  });
  assert.throws(() => fillMask(model, tok, 'no mask here'), /has no mask token '\[MASK\]'/);
  model.dispose();
});

test('classify: softmax of the logits by label; pairs; a text longer than the position table', async () => {
  const tok = await tokenizer();
  const model = new NystromformerForSequenceClassification({ ...SMALL, id2label: { 0: 'negative', 1: 'positive', 2: 'neutral' } });
  const results = classify(model, tok, 'a good movie');
  const probs = run(model, tok.encode('a good movie'));
  assert.deepEqual(results.map((r) => r.label).sort(), ['negative', 'neutral', 'positive']);
  for (const r of results) assertClose([r.score], [probs[['negative', 'positive', 'neutral'].indexOf(r.label)]], { rtol: 1e-5, atol: 1e-7 }, r.label);
  assert.ok(results[0].score >= results[1].score && results[1].score >= results[2].score);
  assert.equal(classify(model, tok, ['is it good?', 'it is.'], { topK: 1 }).length, 1);
  const long = 'the film is good '.repeat(20);
  assert.throws(() => classify(model, tok, long), /longer than the model's position table \(max_position_embeddings = 40\)/);
  assert.equal(classify(model, tok, long, { truncation: true }).length, 3);
  model.dispose();
});

test('embed: unit vectors from mean or CLS pooling; cosine similarity', async () => {
  const tok = await tokenizer();
  manualSeed(5);
  const model = new NystromformerForMaskedLM(SMALL);
  const texts = ['a good movie', 'a good movie.', 'paris is the capital of france'];
  const vectors = embed(model, tok, texts);
  for (const v of vectors) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, 'unit length');
  const raw = embed(model, tok, [texts[0]], { normalize: false, pooling: 'mean' })[0];
  const hidden = noGrad(() => tidy(() => {
    const ids = tok.encode(texts[0]).inputIds;
    return model.nystromformer.forward({ inputIds: Tensor.from(Int32Array.from(ids), [1, ids.length], 'int32') }).lastHiddenState.toArray();
  }));
  const n = hidden.length / 16;
  const mean = Array.from({ length: 16 }, (_, j) => Array.from({ length: n }, (_, i) => hidden[i * 16 + j]).reduce((a, b) => a + b, 0) / n);
  assertClose(raw, mean, { rtol: 1e-5, atol: 1e-6 }, 'mean pooling');
  const cls = embed(model, tok, [texts[0]], { normalize: false, pooling: 'cls' })[0];
  assertClose(cls, hidden.slice(0, 16), { rtol: 0, atol: 0 }, 'CLS pooling');
  const dot = vectors[0].reduce((s, x, i) => s + x * vectors[2][i], 0);
  assert.ok(Math.abs(cosineSimilarity(vectors[0], vectors[2]) - dot) < 1e-6, 'unit vectors: cosine = dot product');
  assert.ok(Math.abs(cosineSimilarity(raw, raw) - 1) < 1e-6);
  model.dispose();
});
