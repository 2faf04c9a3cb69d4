/** Damaged checkpoints (issue 17): resuming checks every file first, names the bad one, and changes nothing of the model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { majorityTask } from '../src/data/synthetic.js';
import { readSafetensorsSync, writeSafetensorsSync, type RawTensor, type TensorToWrite } from '../src/io/safetensors.js';
import { NystromformerForSequenceClassification } from '../src/models/index.js';
import { manualSeed, moduleTensors } from '../src/nn/index.js';
import { AdamW, loadTrainingState, train } from '../src/train/index.js';
import { snapshotFiles, withTempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = (args: string[]) => spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
const TINY = ['--steps', '2', '--train-size', '32', '--eval-size', '8', '--batch-size', '8', '--eval-every', '1', '--checkpoint-every', '1', '--json'];

/** Rewrites a safetensors file through `edit` (tensors as F32 TensorToWrite, metadata). */
function rewrite(path: string, edit: (tensors: Record<string, TensorToWrite>, metadata: Record<string, string>) => void): void {
  const file = readSafetensorsSync(path);
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, t] of file.tensors) tensors[name] = { dtype: 'F32', shape: t.shape, data: f32(t) };
  const metadata = { ...file.metadata };
  edit(tensors, metadata);
  writeSafetensorsSync(path, tensors, metadata);
}
const f32 = (t: RawTensor) => new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
const firstKey = (tensors: Record<string, TensorToWrite>, pattern: RegExp) => Object.keys(tensors).find((k) => pattern.test(k))!;

/** One damage per way a checkpoint file can be wrong; each must be refused naming that file. */
const DAMAGES: [string, string, (path: string) => void][] = [
  ['optimizer.safetensors', 'a slot missing', (p) => rewrite(p, (t) => delete t[firstKey(t, /::v$/)])],
  ['optimizer.safetensors', 'a slot of the wrong size', (p) => rewrite(p, (t) => {
    const k = firstKey(t, /::m$/);
    t[k] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
  })],
  ['optimizer.safetensors', 'a slot stored as integers', (p) => rewrite(p, (t) => {
    const k = firstKey(t, /::m$/);
    t[k] = { dtype: 'I32', shape: t[k].shape, data: new Int32Array(t[k].data.length) };
  })],
  ['optimizer.safetensors', 'a step that is not an integer', (p) => rewrite(p, (_, m) => (m.step = 'two'))],
  ['weights.safetensors', 'a tensor of the wrong shape', (p) => rewrite(p, (t) => {
    const k = firstKey(t, /\.weight$/);
    t[k] = { ...t[k], shape: [t[k].data.length] };
  })],
  ['weights.safetensors', 'a tensor missing', (p) => rewrite(p, (t) => delete t[firstKey(t, /classifier/)])],
  ['trainer.json', 'truncated', (p) => writeFileSync(p, readFileSync(p, 'utf8').slice(0, 20))],
  ['trainer.json', 'a step that is not an integer', (p) => writeFileSync(p, JSON.stringify({ ...JSON.parse(readFileSync(p, 'utf8')), step: 1.5 }))],
  ['trainer.json', 'no seedState', (p) => writeFileSync(p, JSON.stringify({ ...JSON.parse(readFileSync(p, 'utf8')), seedState: undefined }))],
];

test('CLI: train --resume refuses each kind of damaged checkpoint file, naming it, and leaves the run as it was', withTempDir('nystromformer-ckpt-', (dir) => {
  const run = join(dir, 'run');
  const first = cli(['train', '--out', run, ...TINY]);
  assert.equal(first.status, 0, first.stderr);
  DAMAGES.forEach(([file, what, damage], i) => {
    const out = join(dir, `damaged-${i}`);
    cpSync(run, out, { recursive: true });
    const path = join(out, 'checkpoints', 'step-2', file);
    damage(path);
    const before = snapshotFiles(out);
    const r = cli(['train', '--out', out, ...TINY, '--steps', '3', '--resume']);
    assert.equal(r.status, 1, `${file} with ${what}: exit ${r.status}; ${r.stderr}`);
    assert.ok(r.stderr.includes(path), `${file} with ${what}: the error names ${path}: ${r.stderr}`);
    assert.deepEqual(snapshotFiles(out), before, `${file} with ${what}: nothing of the run changes`);
  });
}));

test('loadTrainingState checks every file before it changes the model or the optimizer', withTempDir('nystromformer-ckpt-', async (dir) => {
  const config = { vocab_size: 64, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 64,
    conv_kernel_size: 3, pad_token_id: 0, num_labels: 2 };
  const data = majorityTask({ count: 24, seed: 4, maxLength: 40, minLength: 12 });
  manualSeed(3);
  const trained = new NystromformerForSequenceClassification(config, { numLandmarks: 4 });
  await train(trained, data, data, {
    steps: 2, batchSize: 8, lr: 1e-3, schedule: 'constant', optimizer: 'adamw', weightDecay: 0, clipNorm: 0, accumulate: 1,
    evalEvery: 10, patience: 0, checkpointEvery: 2, seed: 1, padId: 0, out: join(dir, 'run'),
  });
  trained.dispose();
  const ckpt = join(dir, 'run', 'checkpoints', 'step-2');
  for (const [file, what, damage] of DAMAGES) {
    const copy = join(dir, `copy-${file}-${what.replaceAll(' ', '-')}`);
    cpSync(ckpt, copy, { recursive: true });
    damage(join(copy, file));
    manualSeed(4);
    const model = new NystromformerForSequenceClassification(config, { numLandmarks: 4 });
    const optimizer = new AdamW(model.namedParameters());
    const before = await moduleTensors(model);
    assert.throws(() => loadTrainingState(copy, model, optimizer), (e: Error) => e.message.includes(join(copy, file)), `${file} with ${what}`);
    const after = await moduleTensors(model);
    for (const name of Object.keys(before)) assert.deepEqual(after[name].data, before[name].data, `${file} with ${what}: ${name} unchanged`);
    assert.deepEqual(await optimizer.state(), { step: 0, slots: {} }, `${file} with ${what}: the optimizer is unchanged`);
    model.dispose();
  }
}));
