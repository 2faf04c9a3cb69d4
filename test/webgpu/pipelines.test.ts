/**
 * The pipelines on WebGPU: fill-mask and embed on the demo's tiny MLM (web/models/tiny-mlm) and
 * classify on the PyTorch fixture classifier (test/fixtures/models/seqcls-single) give the
 * WebAssembly engine's tokens, labels and scores.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as E from '../../src/engine/index.js';
import { Tokenizer } from '../../src/io/tokenizer.js';
import { classify, embed, fillMask, NystromformerForMaskedLM, NystromformerForSequenceClassification } from '../../src/models/index.js';
import { assertCloseScaled } from '../check.js';
import { onBackend, webgpuBackend } from './backends.js';

const MLM = fileURLToPath(new URL('../../../web/models/tiny-mlm', import.meta.url));
const CLS = fileURLToPath(new URL('../../../test/fixtures/models/seqcls-single', import.meta.url));
const TEXT = 'the [MASK] sat on the mat while the dog slept by the [MASK] door.';

let gpu: E.WebGpuBackend | string;
before(async () => (gpu = await webgpuBackend()));

/** fn's results with the model loaded on the WebAssembly backend, then on WebGPU. */
async function onBoth<T>(load: () => Promise<{ dispose(): void }>, fn: (model: never) => Promise<T>, g: E.WebGpuBackend): Promise<[T, T]> {
  const once = async () => {
    const model = await load();
    try {
      return await fn(model as never);
    } finally {
      model.dispose();
    }
  };
  return [await once(), await onBackend(g, once)];
}

test('fill-mask and embed on WebGPU: the same tokens, scores within 1e-5', async (t) => {
  if (typeof gpu === 'string') return t.skip(gpu);
  const tokenizer = await Tokenizer.fromDir(MLM);
  const load = () => NystromformerForMaskedLM.fromPretrained(MLM, { attention: 'nystrom' });
  const [cpu, webgpu] = await onBoth(load, async (model: NystromformerForMaskedLM) => ({
    fill: await fillMask(model, tokenizer, TEXT, { topK: 5 }),
    vectors: await embed(model, tokenizer, [TEXT, 'a short one.'], { pooling: 'mean' }),
  }), gpu);
  webgpu.fill.forEach((candidates, j) => {
    assert.deepEqual(candidates.map((c) => c.token), cpu.fill[j].map((c) => c.token), `mask ${j}: tokens`);
    assertCloseScaled(candidates.map((c) => c.score), cpu.fill[j].map((c) => c.score), 1e-5, `mask ${j}: scores`);
  });
  webgpu.vectors.forEach((v, i) => assertCloseScaled(v, cpu.vectors[i], 1e-5, `embedding ${i}`));
});

test('classify on WebGPU: the fixture classifier gives the same labels and scores', async (t) => {
  if (typeof gpu === 'string') return t.skip(gpu);
  const tokenizer = await Tokenizer.fromDir(CLS);
  const load = () => NystromformerForSequenceClassification.fromPretrained(CLS);
  const [cpu, webgpu] = await onBoth(load, (model: NystromformerForSequenceClassification) => classify(model, tokenizer, 'a good movie'), gpu);
  assert.deepEqual(webgpu.map((c) => c.label), cpu.map((c) => c.label));
  assertCloseScaled(webgpu.map((c) => c.score), cpu.map((c) => c.score), 1e-5, 'scores');
});
