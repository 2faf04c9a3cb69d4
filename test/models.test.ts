/** The Hugging Face–compatible models: config, state-dict names, loading and saving, modes, dropout, memory. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assign, backend, backward, noGrad, Tensor, tidy } from '../src/engine/index.js';
import { readSafetensorsSync } from '../src/io/safetensors.js';
import { Tokenizer } from '../src/io/tokenizer.js';
import { manualSeed } from '../src/nn/index.js';
import {
  NystromformerForMaskedLM, NystromformerForMultipleChoice, NystromformerForQuestionAnswering,
  NystromformerForSequenceClassification, NystromformerForTokenClassification, NystromformerModel, parseConfig,
  type NystromformerConfig,
} from '../src/models/index.js';
import { assertClose } from './check.js';

const TINY: Partial<NystromformerConfig> = {
  vocab_size: 40, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24,
  max_position_embeddings: 32, conv_kernel_size: 3, initializer_range: 0.3,
};

const ids = (rows: number[][]) => Tensor.from(Int32Array.from(rows.flat()), [rows.length, rows[0].length], 'int32');
const tempDir = () => mkdtempSync(join(tmpdir(), 'nystromformer-models-'));

test('config: defaults of docs/algorithm.md §2, unknown fields kept, labels from num_labels', () => {
  const c = parseConfig({ model_type: 'nystromformer', my_field: [1, 2], num_labels: 3 });
  assert.equal(c.hidden_size, 768);
  assert.equal(c.max_position_embeddings, 510);
  assert.equal(c.conv_kernel_size, 65);
  assert.equal(c.layer_norm_eps, 1e-5);
  assert.equal(c.hidden_act, 'gelu_new');
  assert.deepEqual(c.my_field, [1, 2]);
  assert.deepEqual(c.id2label, { 0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2' });
  assert.equal(parseConfig({ conv_kernel_size: null }).conv_kernel_size, null);
});

test('config: invalid values give errors that name the field', () => {
  const bad: [object, RegExp][] = [
    [{ hidden_size: 100, num_attention_heads: 12 }, /hidden_size 100 is not divisible by num_attention_heads 12/],
    [{ hidden_act: 'swishy' }, /hidden_act 'swishy' is not supported/],
    [{ model_type: 'bert' }, /model_type is 'bert'/],
    [{ conv_kernel_size: 4 }, /conv_kernel_size must be an odd/],
    [{ num_hidden_layers: 0 }, /num_hidden_layers must be a positive integer/],
    [{ hidden_dropout_prob: 1.5 }, /hidden_dropout_prob must be in \[0, 1\)/],
    [{ num_labels: 3, id2label: { 0: 'a' } }, /num_labels 3 disagrees/],
  ];
  for (const [json, message] of bad) assert.throws(() => parseConfig(json, 'x/config.json'), (e: Error) => message.test(e.message) && e.message.startsWith('x/config.json'));
});

test('parameter names are the Hugging Face state-dict keys', () => {
  const mlm = new NystromformerForMaskedLM(TINY);
  const names = mlm.namedParameters().map(([n]) => n);
  for (const key of [
    'nystromformer.embeddings.word_embeddings.weight', 'nystromformer.embeddings.position_embeddings.weight',
    'nystromformer.embeddings.token_type_embeddings.weight', 'nystromformer.embeddings.LayerNorm.weight',
    'nystromformer.encoder.layer.1.attention.self.query.weight', 'nystromformer.encoder.layer.1.attention.self.conv.weight',
    'nystromformer.encoder.layer.0.attention.output.dense.bias', 'nystromformer.encoder.layer.0.attention.output.LayerNorm.weight',
    'nystromformer.encoder.layer.0.intermediate.dense.weight', 'nystromformer.encoder.layer.0.output.dense.weight',
    'nystromformer.encoder.layer.0.output.LayerNorm.bias', 'cls.predictions.bias', 'cls.predictions.transform.dense.weight',
    'cls.predictions.transform.LayerNorm.weight', 'cls.predictions.decoder.weight', 'cls.predictions.decoder.bias',
  ]) assert.ok(names.includes(key), key);
  const shapes = Object.fromEntries(mlm.namedParameters().map(([n, t]) => [n, t.shape]));
  assert.deepEqual(shapes['nystromformer.embeddings.position_embeddings.weight'], [34, 16]);
  assert.deepEqual(shapes['nystromformer.encoder.layer.0.attention.self.conv.weight'], [2, 1, 3, 1]);
  assert.deepEqual(shapes['nystromformer.encoder.layer.0.intermediate.dense.weight'], [24, 16]);
  // tied decoder: one tensor, counted once by parameters()
  assert.equal(mlm.cls.predictions.decoder.weight, mlm.nystromformer.embeddings.wordEmbeddings.weight);
  assert.equal(mlm.parameters().length, new Set(mlm.namedParameters().map(([, t]) => t)).size);
  assert.ok(mlm.parameters().length < names.length);
  assert.ok(new NystromformerModel(TINY).namedParameters().every(([n]) => n.startsWith('embeddings.') || n.startsWith('encoder.')));
  for (const m of [mlm]) m.dispose();
});

test('save → fromPretrained gives the same model; tied decoder stored once; config round-trips', async () => {
  const dir = tempDir();
  try {
    manualSeed(1);
    const model = new NystromformerForMaskedLM({ ...TINY, my_extra: 'kept' });
    await model.save(dir);
    const file = readSafetensorsSync(join(dir, 'model.safetensors'));
    assert.equal(file.metadata.format, 'pt');
    assert.ok(!file.tensors.has('cls.predictions.decoder.weight'));
    assert.ok(!file.tensors.has('cls.predictions.decoder.bias'));
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(config.model_type, 'nystromformer');
    assert.deepEqual(config.architectures, ['NystromformerForMaskedLM']);
    assert.equal(config.my_extra, 'kept');
    const warnings: string[] = [];
    const loaded = await NystromformerForMaskedLM.fromPretrained(dir, { onWarning: (m) => warnings.push(m) });
    assert.deepEqual(warnings, []);
    assert.deepEqual(loaded.loadReport, { missingKeys: [], unexpectedKeys: [] });
    const input = { inputIds: ids([[2, 5, 7, 9, 3], [2, 8, 4, 3, 0]]), attentionMask: ids([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]]) };
    const [a, b] = noGrad(() => tidy(() => [model.forward(input).logits.toArray(), loaded.forward(input).logits.toArray()]));
    assertClose(b, a, { rtol: 0, atol: 0 }, 'logits after a round trip');
    assert.equal(loaded.cls.predictions.decoder.weight, loaded.nystromformer.embeddings.wordEmbeddings.weight);
    model.dispose();
    loaded.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loading across architectures reports missing and unused keys as Hugging Face does', async () => {
  const dir = tempDir();
  try {
    const mlm = new NystromformerForMaskedLM(TINY);
    await mlm.save(dir);
    // a masked-LM checkpoint into a classifier: the classifier is new, the MLM head unused
    const warnings: string[] = [];
    const cls = await NystromformerForSequenceClassification.fromPretrained(dir, { onWarning: (m) => warnings.push(m) });
    assert.deepEqual(cls.loadReport!.missingKeys.sort(), ['classifier.dense.bias', 'classifier.dense.weight', 'classifier.out_proj.bias', 'classifier.out_proj.weight']);
    assert.ok(cls.loadReport!.unexpectedKeys.includes('cls.predictions.bias'));
    assert.match(warnings.join('\n'), /newly initialized: .*classifier\.dense\.weight/);
    assert.match(warnings.join('\n'), /were not used when initializing NystromformerForSequenceClassification/);
    await assert.rejects(NystromformerForSequenceClassification.fromPretrained(dir, { strict: true }), /classifier\.out_proj\.weight/);
    // into the bare model: the 'nystromformer.' prefix is stripped
    const base = await NystromformerModel.fromPretrained(dir, { onWarning: () => {} });
    assert.deepEqual(base.loadReport!.missingKeys, []);
    // and a bare model's checkpoint into a head model
    const baseDir = join(dir, 'base');
    await base.save(baseDir);
    const head = await NystromformerForTokenClassification.fromPretrained(baseDir, { onWarning: () => {} });
    assert.deepEqual(head.loadReport!.missingKeys.sort(), ['classifier.bias', 'classifier.weight']);
    assert.deepEqual(head.loadReport!.unexpectedKeys, []);
    const same = noGrad(() => tidy(() => {
      const input = { inputIds: ids([[2, 5, 7, 3]]) };
      return [base.forward(input).lastHiddenState.toArray(), mlm.nystromformer.forward(input).lastHiddenState.toArray()];
    }));
    assertClose(same[0], same[1], { rtol: 0, atol: 0 }, 'base model loaded from a head checkpoint');
    for (const m of [mlm, cls, base, head]) m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad checkpoints: wrong shapes, bad config, no weights — clear errors', async () => {
  const dir = tempDir();
  try {
    await assert.rejects(NystromformerModel.fromPretrained(dir), /config\.json: cannot read the model config/);
    const small = new NystromformerModel(TINY);
    await small.save(dir);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 20 }));
    await assert.rejects(NystromformerModel.fromPretrained(dir), /encoder\.layer\.0\.intermediate\.dense\.weight: the checkpoint holds shape \[24, 16\] but the model expects \[20, 16\]/);
    rmSync(join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    await assert.rejects(NystromformerModel.fromPretrained(dir), /no model weights found/);
    small.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an input longer than the position table fails with the limit in the message', () => {
  const model = new NystromformerModel({ ...TINY, max_position_embeddings: 8 });
  assert.throws(() => noGrad(() => tidy(() => model.forward({ inputIds: ids([Array(9).fill(5)]) }))), /9 tokens is longer than the model's position table \(max_position_embeddings = 8\)/);
  assert.throws(() => noGrad(() => tidy(() => model.forward({ inputIds: ids([[1, 2]]), attentionMask: ids([[1, 2]]) }))), /attention_mask must hold only 0 and 1/);
  assert.throws(() => noGrad(() => tidy(() => model.forward({ inputIds: ids([[1, 2]]), attentionMask: ids([[1, 1, 1]]) }))), /attention_mask \[1, 3\] does not match input_ids \[1, 2\]/);
  model.dispose();
});

test("attention modes: 'hf' dense = 'softmax'; 'nystrom' with m ≥ n is exact; HF's Nyström branch needs n = segment_means_seq_len", () => {
  const model = new NystromformerModel(TINY);
  // (no padding: with it 'nystrom' convolves the masked V, as the paper's code does, and HF the raw V)
  const input = { inputIds: ids([[2, 5, 7, 9, 11, 3], [2, 8, 4, 3, 8, 9]]) };
  const run = () => noGrad(() => tidy(() => model.forward(input).lastHiddenState.toArray()));
  const hf = run();
  model.setAttention({ attention: 'softmax' });
  assertClose(run(), hf, { rtol: 0, atol: 1e-6 }, 'softmax vs hf dense');
  model.setAttention({ attention: 'nystrom', numLandmarks: 8 });
  assertClose(run(), hf, { rtol: 0, atol: 1e-5 }, 'nystrom with m ≥ n');
  model.setAttention({ attention: 'nystrom', numLandmarks: 2 });
  const approx = run();
  assert.ok(approx.some((v, i) => Math.abs(v - hf[i]) > 1e-4), 'two landmarks approximate');
  const branch = new NystromformerModel({ ...TINY, num_landmarks: 2, segment_means_seq_len: 8 });
  assert.throws(() => noGrad(() => tidy(() => branch.forward(input))), /only handles inputs of exactly 8 tokens, got 6; use attention: 'nystrom'/);
  model.dispose();
  branch.dispose();
});

test('dropout: active only in training mode, reproducible from the seed', () => {
  const model = new NystromformerModel({ ...TINY, hidden_dropout_prob: 0.2 });
  const input = { inputIds: ids([[2, 5, 7, 9, 3]]) };
  const run = () => noGrad(() => tidy(() => model.forward(input).lastHiddenState.toArray()));
  const evaluation = run();
  assertClose(run(), evaluation, { rtol: 0, atol: 0 }, 'eval is deterministic');
  model.train();
  manualSeed(7);
  const a = run();
  manualSeed(7);
  const b = run();
  assertClose(b, a, { rtol: 0, atol: 0 }, 'same seed, same masks');
  assert.ok(a.some((v, i) => v !== evaluation[i]), 'training differs from eval');
  model.dispose();
});

test('every head: output shapes and a loss whose gradient reaches the embeddings', () => {
  const config = { ...TINY, num_labels: 3 };
  const input = { inputIds: ids([[2, 5, 7, 3], [2, 9, 3, 0]]), attentionMask: ids([[1, 1, 1, 1], [1, 1, 1, 0]]) };
  const cases: [string, () => { model: { dispose(): void; parameters(): Tensor[] }; out: { loss?: Tensor }; shape: number[]; logits: Tensor }][] = [
    ['masked LM', () => {
      const model = new NystromformerForMaskedLM(config);
      const out = model.forward({ ...input, labels: ids([[-100, 6, -100, -100], [-100, -100, 4, -100]]) });
      return { model, out, shape: [2, 4, 40], logits: out.logits };
    }],
    ['sequence classification', () => {
      const model = new NystromformerForSequenceClassification(config);
      const out = model.forward({ ...input, labels: ids([[2], [0]]) });
      return { model, out, shape: [2, 3], logits: out.logits };
    }],
    ['multi-label', () => {
      const model = new NystromformerForSequenceClassification({ ...config, problem_type: 'multi_label_classification' });
      const out = model.forward({ ...input, labels: Tensor.from([1, 0, 1, 0, 0, 1], [2, 3]) });
      return { model, out, shape: [2, 3], logits: out.logits };
    }],
    ['regression', () => {
      const model = new NystromformerForSequenceClassification({ ...config, num_labels: 1 });
      const out = model.forward({ ...input, labels: Tensor.from([0.5, -1], [2]) });
      return { model, out, shape: [2, 1], logits: out.logits };
    }],
    ['token classification', () => {
      const model = new NystromformerForTokenClassification(config);
      const out = model.forward({ ...input, labels: ids([[0, 1, 2, 1], [2, 2, 0, -100]]) });
      return { model, out, shape: [2, 4, 3], logits: out.logits };
    }],
    ['multiple choice', () => {
      const model = new NystromformerForMultipleChoice(config);
      const three = (t: Tensor) => Tensor.from(t.toArray(), [1, 2, 4], t.dtype);
      const out = model.forward({ inputIds: three(input.inputIds), attentionMask: three(input.attentionMask), labels: ids([[1]]) });
      return { model, out, shape: [1, 2], logits: out.logits };
    }],
    ['question answering', () => {
      const model = new NystromformerForQuestionAnswering(config);
      const out = model.forward({ ...input, startPositions: ids([[1], [9]]), endPositions: ids([[2], [2]]) });
      return { model, out, shape: [2, 4], logits: out.startLogits };
    }],
  ];
  for (const [name, make] of cases) {
    tidy(() => {
      const { model, out, shape, logits } = make();
      assert.deepEqual([...logits.shape], shape, `${name}: logits shape`);
      assert.ok(out.loss && Number.isFinite(out.loss.item()), `${name}: finite loss`);
      backward(out.loss!);
      const grads = model.parameters().filter((p) => p.grad);
      assert.ok(grads.length === model.parameters().length, `${name}: every parameter got a gradient`);
      model.dispose();
    });
  }
});

test('the MLM loss gradient matches central finite differences', () => {
  manualSeed(3);
  const model = new NystromformerForMaskedLM({ ...TINY, conv_kernel_size: 3 });
  const input = { inputIds: ids([[2, 5, 7, 9, 3]]), attentionMask: ids([[1, 1, 1, 1, 0]]), labels: ids([[-100, 6, 8, -100, -100]]) };
  const loss = () => noGrad(() => tidy(() => model.forward(input).loss!.item()));
  const probe = [
    model.nystromformer.encoder.layer.items[0].attention.self.query.weight,
    model.nystromformer.encoder.layer.items[1].attention.self.conv!.weight,
    model.nystromformer.embeddings.wordEmbeddings.weight,
  ];
  tidy(() => backward(model.forward(input).loss!));
  for (const p of probe) {
    const analytic = p.grad!.toArray();
    const values = p.toArray() as Float32Array;
    const picks = [0, 7, 13, values.length - 1].map((i) => (i * 97) % values.length).filter((i) => Math.abs(analytic[i]) > 1e-3 || i === 0);
    for (const i of picks) {
      const h = 1e-2;
      const at = (v: number) => {
        const copy = values.slice();
        copy[i] = v;
        assign(p, copy);
        return loss();
      };
      const fd = (at(values[i] + h) - at(values[i] - h)) / (2 * h);
      assign(p, values);
      assert.ok(Math.abs(fd - analytic[i]) <= 2e-2 * Math.max(1e-2, Math.abs(analytic[i])) + 2e-4, `d loss / d ${p.shape}[${i}]: analytic ${analytic[i]}, finite difference ${fd}`);
    }
  }
  model.dispose();
});

test('inference frees everything: bytesInUse returns to its level', () => {
  const model = new NystromformerForMaskedLM(TINY);
  const input = { inputIds: ids([[2, 5, 7, 9, 3]]) };
  const run = (options = {}) => tidy(() => {
    noGrad(() => model.forward(input, options));
  });
  run();
  const before = backend().bytesInUse;
  for (let i = 0; i < 3; i++) run({ outputHiddenStates: true, outputAttentions: true });
  assert.equal(backend().bytesInUse, before);
  model.dispose();
});

test('outputs: hidden states per layer and attention maps per layer', () => {
  const model = new NystromformerModel(TINY);
  tidy(() => noGrad(() => {
    const out = model.forward({ inputIds: ids([[2, 5, 7, 9, 3]]) }, { outputHiddenStates: true, outputAttentions: true });
    assert.equal(out.hiddenStates!.length, 3);
    assert.equal(out.attentions!.length, 2);
    assert.deepEqual([...out.attentions![0].shape], [1, 2, 5, 5]);
    const row = Array.from(out.attentions![0].toArray().slice(0, 5)).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(row - 1) < 1e-5, 'probabilities sum to 1');
  }));
  model.dispose();
});

test('save records the attention the model runs in; loading without an attention option uses it; a bad record is named', async () => {
  const dir = tempDir();
  try {
    const model = new NystromformerForSequenceClassification(TINY, { attention: 'nystrom', numLandmarks: 4 });
    await model.save(dir);
    const config = () => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.deepEqual(config().nystromformer_attention, { mode: 'nystrom', num_landmarks: 4, pinv_init: 'original', pinv_iterations: 6 });
    const loaded = await NystromformerForSequenceClassification.fromPretrained(dir);
    assert.deepEqual(loaded.attentionSettings, model.attentionSettings);
    const input = { inputIds: ids([[2, 5, 7, 9, 3, 4, 6, 8, 1, 3]]) };
    const [a, b] = noGrad(() => tidy(() => [model.forward(input).logits.toArray(), loaded.forward(input).logits.toArray()]));
    assertClose(b, a, { rtol: 0, atol: 0 }, 'logits of the loaded model, in the recorded attention');
    // an explicit option wins; saving in 'hf' drops the record, saving in 'softmax' records just the mode
    const hf = await NystromformerForSequenceClassification.fromPretrained(dir, { attention: 'hf' });
    assert.equal(hf.attentionSettings.mode, 'hf');
    await hf.save(dir);
    assert.equal(config().nystromformer_attention, undefined);
    await hf.setAttention({ attention: 'softmax' }).save(dir);
    assert.deepEqual(config().nystromformer_attention, { mode: 'softmax' });
    for (const m of [model, loaded, hf]) m.dispose();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...TINY, nystromformer_attention: { mode: 'nystrom', num_landmarks: 0 } }));
    await assert.rejects(NystromformerForSequenceClassification.fromPretrained(dir), /config\.json: nystromformer_attention\.num_landmarks must be a positive integer, got 0/);
    assert.throws(() => parseConfig({ nystromformer_attention: { mode: 'fast' } }), /nystromformer_attention\.mode must be 'hf', 'nystrom' or 'softmax', got "fast"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('save(dir, { tokenizer }) writes the tokenizer files beside the model, which load back to the same tokenizer', async () => {
  const source = fileURLToPath(new URL('../../test/fixtures/models/mlm-dense-tied', import.meta.url));
  const dir = tempDir();
  try {
    const tokenizer = await Tokenizer.fromDir(source);
    const model = await NystromformerForMaskedLM.fromPretrained(source);
    await model.save(dir, { tokenizer });
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
      assert.deepEqual(JSON.parse(readFileSync(join(dir, f), 'utf8')), JSON.parse(readFileSync(join(source, f), 'utf8')), f);
    }
    const again = await Tokenizer.fromDir(dir);
    const text = 'paris is the [MASK] of france, a test.';
    assert.deepEqual(again.encode(text), tokenizer.encode(text));
    assert.equal(again.maskToken, tokenizer.maskToken);
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
