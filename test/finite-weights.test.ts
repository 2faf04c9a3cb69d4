/**
 * Weights holding NaN or ±Infinity are refused as they load, naming the file and the tensor, whichever
 * runtime runs the model: the engine, onnxruntime (which would print NaN scores) and LRA run folders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensorsSync, toFloat32, writeSafetensorsSync, type TensorToWrite } from '../src/io/safetensors.js';
import { NystromformerForSequenceClassification } from '../src/models/index.js';
import { Linear, loadModuleTensors } from '../src/nn/index.js';
import { provideOnnxRuntime } from '../src/runtime/index.js';

provideOnnxRuntime(); // runtime 'onnx' for fromPretrained
import { withTempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixture = join(repo, 'test/fixtures/models/seqcls-single');
const POISONED = 'nystromformer.encoder.layer.0.attention.self.query.weight';
const REFUSAL = new RegExp(`model\\.safetensors: tensor '${POISONED.replace(/\./g, '\\.')}' has 3 non-finite values \\(Infinity at index 3\\)`);

/** The fixture's folder with NaN, Infinity and -Infinity written into one weight. */
function poisonedFolder(dir: string): void {
  for (const name of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) copyFileSync(join(fixture, name), join(dir, name));
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, t] of readSafetensorsSync(join(fixture, 'model.safetensors')).tensors) {
    const data = toFloat32(t, name);
    if (name === POISONED) [data[3], data[17], data[40]] = [Infinity, NaN, -Infinity];
    tensors[name] = { dtype: 'F32', shape: t.shape, data };
  }
  writeSafetensorsSync(join(dir, 'model.safetensors'), tensors);
}

test('a NaN weight is refused at load by the engine, by onnxruntime and by classify --runtime onnx, naming the tensor', withTempDir('finite-', async (dir) => {
  poisonedFolder(dir);
  await assert.rejects(NystromformerForSequenceClassification.fromPretrained(dir), REFUSAL);
  await assert.rejects(NystromformerForSequenceClassification.fromPretrained(dir, { runtime: 'onnx' }), REFUSAL);
  const r = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'classify', '--runtime', 'onnx', '--model', dir, 'a good movie'], { encoding: 'utf8', timeout: 120_000 });
  assert.notEqual(r.status, 0, `classify exited ${r.status}: ${r.stdout}`);
  assert.match(r.stderr, REFUSAL);
  assert.doesNotMatch(r.stdout, /NaN/);
}));

test('the weights of a run folder (LRA, training checkpoints) with Infinity are refused, naming the tensor', () => {
  const model = new Linear(2, 3);
  const weight = new Float32Array(6);
  weight[4] = -Infinity;
  const tensors = new Map([
    ['weight', { dtype: 'F32' as const, shape: [3, 2], data: new Uint8Array(weight.buffer) }],
    ['bias', { dtype: 'F32' as const, shape: [3], data: new Uint8Array(12) }],
  ]);
  assert.throws(() => loadModuleTensors(model, tensors, 'run/best/weights.safetensors'),
    /run\/best\/weights\.safetensors: tensor 'weight' has 1 non-finite value \(-Infinity at index 4\)/);
  model.dispose();
});
