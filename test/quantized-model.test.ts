/** 8-bit models: quantize, the float32 outputs they approximate, q8 folders that save and load, and bad q8 files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noGrad, Tensor, tidy } from '../src/engine/index.js';
import { readSafetensorsSync, writeSafetensorsSync } from '../src/io/safetensors.js';
import { Tokenizer } from '../src/io/tokenizer.js';
import { manualSeed, quantize, weightDType } from '../src/nn/index.js';
import { fillMask, NystromformerForMaskedLM, NystromformerModel } from '../src/models/index.js';
import { withTempDir } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/models/mlm-dense-tied', import.meta.url));
const SMALL = {
  vocab_size: 300, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128,
  max_position_embeddings: 80, conv_kernel_size: 3, num_landmarks: 64, segment_means_seq_len: 64,
};

const ids = (rows: number[][]) => Tensor.from(Int32Array.from(rows.flat()), [rows.length, rows[0].length], 'int32');
const INPUT = {
  inputIds: ids([Array.from({ length: 40 }, (_, i) => (i * 37 + 5) % 300), Array.from({ length: 40 }, (_, i) => (i * 11 + 3) % 300)]),
  attentionMask: ids([Array(40).fill(1), [...Array(30).fill(1), ...Array(10).fill(0)]]),
};

function logits(model: NystromformerForMaskedLM): Float32Array {
  return noGrad(() => tidy(() => model.forward(INPUT).logits.toArray() as Float32Array));
}

function maxAbs(a: Float32Array, b?: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - (b ? b[i] : 0)));
  return m;
}

test('quantize makes every untied Linear layer 8-bit; the tied decoder and the embeddings stay float32; logits stay close', async () => {
  manualSeed(7);
  const model = new NystromformerForMaskedLM({ ...SMALL, initializer_range: 0.05 });
  model.setAttention({ attention: 'nystrom', numLandmarks: 8 });
  const before = logits(model);
  const names = await quantize(model);
  assert.equal(names.length, 2 * 6 + 1, 'q, k, v, attention output, intermediate, output per layer, and the MLM transform');
  assert.ok(names.includes('nystromformer.encoder.layer.1.attention.self.query'));
  assert.ok(!names.some((n) => n.includes('decoder')));
  assert.equal(weightDType(model), 'q8');
  assert.ok(model.namedParameters().some(([n]) => n === 'cls.predictions.decoder.weight'), 'the tied decoder keeps its float32 weight');
  const query = new Map(model.namedModules()).get('nystromformer.encoder.layer.0.attention.self.query') as unknown as { weight: Tensor };
  assert.throws(() => query.weight, /Linear\(64 → 64\) holds 8-bit weights/);
  const after = logits(model);
  const err = maxAbs(after, before);
  assert.ok(err > 0 && err < 0.05 * maxAbs(before), `max |Δlogit| ${err} against a logit range of ${maxAbs(before)}`);
  assert.deepEqual(await quantize(model), [], 'quantizing twice changes nothing');
  // frozen: forward needs no noGrad, and nothing asks for a gradient
  assert.ok(model.parameters().every((p) => !p.requiresGrad));
  assert.deepEqual(tidy(() => model.forward(INPUT).logits.toArray()), after);
  model.dispose();
});

test('a q8 model saves int8 codes with their scales, about a quarter of the float32 Linear bytes, and loads back bit-identical', withTempDir('q8-save', async (dir) => {
  manualSeed(8);
  const model = new NystromformerForMaskedLM(SMALL);
  await model.save(join(dir, 'fp32'));
  await quantize(model);
  const want = logits(model);
  await model.save(join(dir, 'q8'));
  const file = readSafetensorsSync(join(dir, 'q8', 'model.safetensors'));
  const codes = file.tensors.get('nystromformer.encoder.layer.0.intermediate.dense.weight')!;
  assert.equal(codes.dtype, 'I8');
  assert.deepEqual(codes.shape, [128, 64]);
  assert.deepEqual(file.tensors.get('nystromformer.encoder.layer.0.intermediate.dense.weight_scale')!.shape, [128]);
  assert.equal(file.tensors.get('nystromformer.embeddings.word_embeddings.weight')!.dtype, 'F32');
  const linearBytes = (f: ReturnType<typeof readSafetensorsSync>) =>
    [...f.tensors].filter(([k, t]) => /dense|query|key|value/.test(k) && t.shape.length === 2).reduce((s, [, t]) => s + t.data.length, 0);
  assert.equal(linearBytes(file) * 4, linearBytes(readSafetensorsSync(join(dir, 'fp32', 'model.safetensors'))));
  assert.ok(statSync(join(dir, 'q8', 'model.safetensors')).size < statSync(join(dir, 'fp32', 'model.safetensors')).size);

  const loaded = await NystromformerForMaskedLM.fromPretrained(join(dir, 'q8'), { strict: true });
  assert.equal(weightDType(loaded), 'q8');
  assert.ok(loaded.parameters().every((p) => !p.requiresGrad), 'a q8 folder loads frozen');
  assert.deepEqual(logits(loaded), want, 'the saved codes and scales are the model');
  const requantized = await NystromformerForMaskedLM.fromPretrained(join(dir, 'fp32'), { dtype: 'q8', strict: true });
  assert.deepEqual(logits(requantized), want, "dtype 'q8' on a float32 folder quantizes it the same way");
  await assert.rejects(NystromformerForMaskedLM.fromPretrained(join(dir, 'q8'), { dtype: 'fp32' }), /holds 8-bit weights; load it with dtype 'q8'/);
  await assert.rejects(NystromformerForMaskedLM.fromPretrained(join(dir, 'q8'), { dtype: 'int4' as 'q8' }), /dtype must be one of fp32, q8, got "int4"/);
  for (const m of [model, loaded, requantized]) m.dispose();
}));

test('damaged q8 files are refused with the tensor named', withTempDir('q8-bad', async (dir) => {
  manualSeed(9);
  const model = new NystromformerModel(SMALL);
  await quantize(model);
  await model.save(dir);
  const path = join(dir, 'model.safetensors');
  const good = readSafetensorsSync(path);
  const rewrite = (edit: (t: Map<string, { dtype: string; shape: number[]; data: Uint8Array }>) => void) => {
    const tensors = new Map(good.tensors);
    edit(tensors);
    writeSafetensorsSync(path, Object.fromEntries([...tensors].map(([k, t]) => [k, {
      dtype: t.dtype as 'F32', shape: t.shape,
      data: t.dtype === 'I8' ? new Int8Array(new Uint8Array(t.data).buffer) : new Float32Array(new Uint8Array(t.data).buffer),
    }])));
  };
  const key = 'encoder.layer.0.attention.self.key.weight';
  rewrite((t) => t.delete(`${key}_scale`));
  await assert.rejects(NystromformerModel.fromPretrained(dir), new RegExp(`'${key}' holds int8 codes without their scales '${key}_scale'`));
  rewrite((t) => t.set(`${key}_scale`, { ...t.get(`${key}_scale`)!, shape: [3], data: new Uint8Array(12) }));
  await assert.rejects(NystromformerModel.fromPretrained(dir), /do not fit the layer's \[64, 64\] and \[64\]/);
  rewrite((t) => t.set('encoder.layer.0.attention.nothing.weight', t.get(key)!));
  await assert.rejects(NystromformerModel.fromPretrained(dir), /'encoder\.layer\.0\.attention\.nothing\.weight' holds int8 codes, but this model has no Linear layer of that name/);
  model.dispose();
}));

test('fill-mask on the fixture model: q8 keeps the float32 top-1 token', async () => {
  const tokenizer = await Tokenizer.fromDir(FIXTURE);
  const text = `the quick brown ${tokenizer.maskToken} jumps`;
  const fp32 = await NystromformerForMaskedLM.fromPretrained(FIXTURE);
  const q8 = await NystromformerForMaskedLM.fromPretrained(FIXTURE, { dtype: 'q8' });
  const [[a], [b]] = [await fillMask(fp32, tokenizer, text, { topK: 5 }), await fillMask(q8, tokenizer, text, { topK: 5 })];
  assert.equal(b[0].token, a[0].token);
  // hidden size 16: each product sums 16 rounded terms, a coarse case for 8 bits
  assert.ok(Math.abs(b[0].score - a[0].score) < 0.1, `top-1 score ${b[0].score} against ${a[0].score}`);
  assert.ok(b.filter((c) => a.some((d) => d.token === c.token)).length >= 4, 'top-5 lists share at least 4 tokens');
  fp32.dispose();
  q8.dispose();
});
