/** The pipelines agree with the models they wrap, on the test tokenizer (test/fixtures/tokenizer). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noGrad, softmax, Tensor, tidy } from '../src/engine/index.js';
import { Tokenizer } from '../src/io/tokenizer.js';
import { manualSeed } from '../src/nn/index.js';
import {
  classify, cosineSimilarity, embed, fillMask, NystromformerForMaskedLM, NystromformerForSequenceClassification,
} from '../src/models/index.js';
import { pipeline, type FillMaskCandidate, type PipelineProgress } from '../src/index.js';
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
  const results = await fillMask(model, tok, text, { topK: 4 });
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
  await assert.rejects(async () => fillMask(model, tok, 'no mask here'), /has no mask token '\[MASK\]'/);
  model.dispose();
});

test('classify: softmax of the logits by label; pairs; a text longer than the position table', async () => {
  const tok = await tokenizer();
  const model = new NystromformerForSequenceClassification({ ...SMALL, id2label: { 0: 'negative', 1: 'positive', 2: 'neutral' } });
  const results = await classify(model, tok, 'a good movie');
  const probs = run(model, tok.encode('a good movie'));
  assert.deepEqual(results.map((r) => r.label).sort(), ['negative', 'neutral', 'positive']);
  for (const r of results) assertClose([r.score], [probs[['negative', 'positive', 'neutral'].indexOf(r.label)]], { rtol: 1e-5, atol: 1e-7 }, r.label);
  assert.ok(results[0].score >= results[1].score && results[1].score >= results[2].score);
  assert.equal((await classify(model, tok, ['is it good?', 'it is.'], { topK: 1 })).length, 1);
  const long = 'the film is good '.repeat(20);
  await assert.rejects(async () => classify(model, tok, long), /longer than the model's position table \(max_position_embeddings = 40\)/);
  assert.equal((await classify(model, tok, long, { truncation: true })).length, 3);
  model.dispose();
});

test('embed: unit vectors from mean or CLS pooling; cosine similarity', async () => {
  const tok = await tokenizer();
  manualSeed(5);
  const model = new NystromformerForMaskedLM(SMALL);
  const texts = ['a good movie', 'a good movie.', 'paris is the capital of france'];
  const vectors = await embed(model, tok, texts);
  for (const v of vectors) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, 'unit length');
  const raw = (await embed(model, tok, [texts[0]], { normalize: false, pooling: 'mean' }))[0];
  const hidden = noGrad(() => tidy(() => {
    const ids = tok.encode(texts[0]).inputIds;
    return model.nystromformer.forward({ inputIds: Tensor.from(Int32Array.from(ids), [1, ids.length], 'int32') }).lastHiddenState.toArray();
  }));
  const n = hidden.length / 16;
  const mean = Array.from({ length: 16 }, (_, j) => Array.from({ length: n }, (_, i) => hidden[i * 16 + j]).reduce((a, b) => a + b, 0) / n);
  assertClose(raw, mean, { rtol: 1e-5, atol: 1e-6 }, 'mean pooling');
  const cls = (await embed(model, tok, [texts[0]], { normalize: false, pooling: 'cls' }))[0];
  assertClose(cls, hidden.slice(0, 16), { rtol: 0, atol: 0 }, 'CLS pooling');
  const dot = vectors[0].reduce((s, x, i) => s + x * vectors[2][i], 0);
  assert.ok(Math.abs(cosineSimilarity(vectors[0], vectors[2]) - dot) < 1e-6, 'unit vectors: cosine = dot product');
  assert.ok(Math.abs(cosineSimilarity(raw, raw) - 1) < 1e-6);
  model.dispose();
});

// pipeline(): the transformers.js-shaped API, against the functions it wraps, on the fixture folders.
const models = join(fixtures, 'models');

test("pipeline('fill-mask'): fillMask's candidates with transformers.js's fields; one list per mask; progress events", async () => {
  const dir = join(models, 'mlm-dense-tied');
  const events: PipelineProgress[] = [];
  const fill = await pipeline('fill-mask', dir, { progressCallback: (e) => events.push(e) });
  const model = await NystromformerForMaskedLM.fromPretrained(dir);
  const tok = await Tokenizer.fromDir(dir);
  try {
    assert.deepEqual(events.map((e) => `${e.status} ${'file' in e ? e.file : e.task}`), [
      'initiate config.json', 'done config.json', 'initiate tokenizer.json', 'done tokenizer.json',
      'initiate model.safetensors', 'done model.safetensors', 'ready fill-mask',
    ]);
    assert.ok(events.every((e) => e.name === dir));
    assert.equal(fill.task, 'fill-mask');
    assert.ok(fill.model instanceof NystromformerForMaskedLM);
    assert.ok(fill.tokenizer instanceof Tokenizer);
    const one = 'paris is the [MASK] of france.';
    const want = (await fillMask(model, tok, one, { topK: 3 }))[0];
    const got = await fill(one, { topK: 3 }) as FillMaskCandidate[];
    assert.deepEqual(got, want.map((c) => ({ score: c.score, token: c.token, token_str: c.tokenStr, sequence: c.sequence })));
    // several masks: one list per mask; several texts: one result per text
    const two = 'hello [MASK] world, this is [MASK] test.';
    const nested = await fill(two) as FillMaskCandidate[][];
    assert.deepEqual(nested.map((list) => list.map((c) => c.score)), (await fillMask(model, tok, two)).map((list) => list.map((c) => c.score)));
    assert.deepEqual(await fill([one, two], { topK: 3 }), [got, await fill(two, { topK: 3 })]);
    await assert.rejects(fill('no mask here'), /has no mask token '\[MASK\]'/);
    await assert.rejects(fill(one, { top_k: 2 } as object), /unknown option 'top_k' \(did you mean 'topK'\?\)/);
    await assert.rejects(fill(one, { topK: 0 }), /topK must be a positive integer, got 0/);
    await assert.rejects(fill(42 as unknown as string), /fill-mask: expected a text or an array of texts, got 42/);
  } finally {
    await fill.dispose();
    model.dispose();
  }
  assert.ok(fill.model.nystromformer.embeddings.wordEmbeddings.weight.isDisposed, 'dispose frees the weights');
});

test("pipeline('text-classification'): classify's labels; top 1 by default, all with topK null; { text, text_pair }", async () => {
  const dir = join(models, 'seqcls-single');
  const classifier = await pipeline('text-classification', dir);
  const model = await NystromformerForSequenceClassification.fromPretrained(dir);
  const tok = await Tokenizer.fromDir(dir);
  try {
    const all = await classify(model, tok, 'a good movie');
    assert.deepEqual(await classifier('a good movie'), all.slice(0, 1));
    assert.deepEqual(await classifier('a good movie', { topK: null }), all);
    assert.deepEqual(await classifier({ text: 'a good movie', text_pair: 'it was fine.' }, { topK: 2 }), await classify(model, tok, ['a good movie', 'it was fine.'], { topK: 2 }));
    assert.deepEqual(await classifier(['a good movie', { text: 'a bad one' }]), [all.slice(0, 1), await classify(model, tok, 'a bad one', { topK: 1 })]);
    const alias = await pipeline('sentiment-analysis', dir);
    assert.equal(alias.task, 'text-classification');
    await alias.dispose();
    await assert.rejects(classifier({ txt: 'x' } as never), /expected a text or \{ text, text_pair \}/);
  } finally {
    await classifier.dispose();
    model.dispose();
  }
});

test("pipeline('feature-extraction'): embed's vectors as a [batch, hidden] Tensor; pooling 'none' the padded last hidden state", async () => {
  const dir = join(models, 'mlm-dense-tied');
  const extractor = await pipeline('feature-extraction', dir, { attention: 'nystrom', numLandmarks: 2 });
  const model = await NystromformerForMaskedLM.fromPretrained(dir, { attention: 'nystrom', numLandmarks: 2 });
  const tok = await Tokenizer.fromDir(dir);
  const texts = ['hello world', 'a second, longer text to embed'];
  try {
    assert.deepEqual(extractor.model.attentionSettings.mode, 'nystrom');
    assert.equal(extractor.model.attentionSettings.numLandmarks, 2);
    for (const pooling of ['mean', 'cls'] as const) {
      for (const normalize of [false, true]) {
        const got = await extractor(texts, { pooling, normalize });
        assert.deepEqual(got.shape, [2, 16]);
        assertClose(got.toArray(), (await embed(model, tok, texts, { pooling, normalize })).flatMap((v) => Array.from(v)), { rtol: 0, atol: 0 }, `${pooling} ${normalize}`);
        got.dispose();
      }
    }
    // no pooling: the texts padded to the longest, as transformers.js pads them
    const batch = tok.encodeBatch(texts);
    const n = batch.inputIds[0].length;
    const want = noGrad(() => tidy(() => model.nystromformer.forward({
      inputIds: Tensor.from(Int32Array.from(batch.inputIds.flat()), [2, n], 'int32'),
      attentionMask: Tensor.from(Int32Array.from(batch.attentionMask.flat()), [2, n], 'int32'),
    }).lastHiddenState.toArray() as Float32Array));
    const hidden = await extractor(texts);
    assert.deepEqual(hidden.shape, [2, n, 16]);
    assertClose(hidden.toArray(), want, { rtol: 0, atol: 0 }, 'last hidden state');
    const unit = (await extractor(texts, { normalize: true })).toArray();
    for (let at = 0; at < unit.length; at += 16) assert.ok(Math.abs(Math.hypot(...unit.subarray(at, at + 16)) - 1) < 1e-5, 'unit rows');
    assert.deepEqual((await extractor('one text', { pooling: 'mean' })).shape, [1, 16]);
    hidden.dispose();
    await assert.rejects(extractor(texts, { pooling: 'max' as 'mean' }), /pooling must be 'none', 'mean' or 'cls', got 'max'/);
  } finally {
    await extractor.dispose();
    model.dispose();
  }
});

test('pipeline(): unknown tasks, options and folders, and dtype / device other than fp32 / cpu, are named in the error', async () => {
  const dir = join(models, 'mlm-dense-tied');
  for (const task of ['translation', 'constructor', '__proto__', 'toString']) {
    await assert.rejects(pipeline(task as 'fill-mask', dir), new RegExp(`unknown task "${task}" \\(tasks: fill-mask, text-classification`));
  }
  await assert.rejects(pipeline('fill-mask', dir, { dtype: 'q8' as 'fp32' }), /dtype 'q8' is not supported \(options\.dtype: only 'fp32'/);
  await assert.rejects(pipeline('fill-mask', dir, { device: 'webgpu' as 'cpu' }), /device 'webgpu' is not supported yet \(options\.device: only 'cpu'/);
  await assert.rejects(pipeline('fill-mask', dir, { progress_callback: () => {} } as object), /unknown option 'progress_callback' \(did you mean 'progressCallback'\?\)/);
  // not a folder here, so a Hub id: offline, with an empty cache, the error names the file it lacks
  const emptyCache = mkdtempSync(join(tmpdir(), 'nf-hub-'));
  await assert.rejects(pipeline('fill-mask', 'Xenova/no-such-model', { localFilesOnly: true, cacheDir: emptyCache }), /config\.json of Xenova\/no-such-model at revision 'main' is not in the cache/);
  rmSync(emptyCache, { recursive: true });
  await assert.rejects(pipeline('fill-mask', 'no/such/folder'), /no\/such\/folder: no such folder \(nor a Hub id/);
  await assert.rejects(pipeline('fill-mask', dir, { attention: 'fast' as 'hf' }), /attention must be 'hf', 'nystrom' or 'softmax', got 'fast'/);
});

test('a folder saved with its tokenizer, as training saves best/, runs in pipeline() in the attention it was saved with', async () => {
  const source = join(models, 'mlm-dense-tied');
  const dir = mkdtempSync(join(tmpdir(), 'nystromformer-saved-'));
  try {
    const model = await NystromformerForMaskedLM.fromPretrained(source, { attention: 'nystrom', numLandmarks: 3 });
    const tok = await Tokenizer.fromDir(source);
    await model.save(dir, { tokenizer: tok });
    const fill = await pipeline('fill-mask', dir);
    assert.deepEqual(fill.model.attentionSettings, model.attentionSettings);
    const text = 'a long enough text, so that three landmarks are fewer than its [MASK] tokens.';
    assert.deepEqual((await fill(text) as FillMaskCandidate[]).map((c) => c.score), (await fillMask(model, tok, text))[0].map((c) => c.score));
    await fill.dispose();
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
