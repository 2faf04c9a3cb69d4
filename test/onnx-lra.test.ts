/**
 * The Long Range Arena classifier on ONNX: every attention (softmax, nystrom-m with n below, at and
 * above m, linformer-k, performer-m) and the dual encoder exported and run on onnxruntime-node
 * against the engine (max abs error ≤ 1e-4) on padded batches, several lengths per session; LRA
 * run folders reloaded exactly (Performer's random features included) and exported by the CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceSession } from 'onnxruntime-node';
import { noGrad, seededRandom, Tensor, tidy } from '../src/engine/index.js';
import { writeSafetensorsSync } from '../src/io/safetensors.js';
import { LraClassifier, type LraConfig } from '../src/models/index.js';
import { loadLraRun, readLraConfig, writeLraConfig } from '../src/models/lra/run.js';
import { assignParameter, manualSeed, moduleTensors } from '../src/nn/index.js';
import { exportFolder, exportLraOnnx, lraOnnxGraph } from '../src/runtime/index.js';
import { AdamW, saveCheckpoint } from '../src/train/index.js';
import { maxAbsError, withTempDir } from './helpers.js';

const ort = (await import('onnxruntime-node')).default;

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = (args: string[]) => spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), ...args], { encoding: 'utf8', timeout: 180_000 });
const TOLERANCE = 1e-4;
const VOCAB = 20;
/** One thread: the machine this runs on may be busy. */
const SESSION = { intraOpNumThreads: 1 };


/**
 * A small classifier in evaluation mode whose weights are redrawn far from their init (std 0.02
 * would make every attention nearly uniform): N(0, 0.3²), LayerNorm scales 1 + N(0, 0.1²).
 */
function tinyModel(attention: string, options: Partial<LraConfig> = {}, seed = 7): LraClassifier {
  manualSeed(seed);
  const model = new LraClassifier({ vocabSize: VOCAB, maxLength: 64, classes: 3, attention, dim: 16, ffn: 32, layers: 2, heads: 2, ...options });
  const uniform = seededRandom(seed + 1000);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  for (const [name, t] of model.namedParameters()) {
    const scale = /norm\d?\.weight$/.test(name);
    const values = Float32Array.from({ length: t.size }, () => (scale ? 1 + 0.1 * gaussian() : 0.3 * gaussian()));
    assignParameter(name, t, values, t.shape);
  }
  return model.eval();
}

/** B = 2 documents of n tokens, the second padded (id 0, mask 0) after `length2` tokens. */
interface Doc { ids: Int32Array; mask: Int32Array; n: number }
function doc(n: number, length2: number, seed: number): Doc {
  const uniform = seededRandom(seed);
  const ids = Int32Array.from({ length: 2 * n }, (_, i) => (i >= n + length2 ? 0 : 1 + Math.floor(uniform() * (VOCAB - 1))));
  const mask = Int32Array.from({ length: 2 * n }, (_, i) => (i >= n + length2 ? 0 : 1));
  return { ids, mask, n };
}

function engineLogits(model: LraClassifier, a: Doc, b?: Doc): Float32Array {
  const t = (data: Int32Array, n: number) => Tensor.from(data, [2, n], 'int32');
  return noGrad(() => tidy(() => model.forward({
    inputIds: t(a.ids, a.n), attentionMask: t(a.mask, a.n), ...(b && { inputIds2: t(b.ids, b.n), attentionMask2: t(b.mask, b.n) }),
  }).logits.toArray() as Float32Array));
}

async function onnxLogits(session: InferenceSession, a: Doc, b?: Doc): Promise<Float32Array> {
  const t = (data: Int32Array, n: number) => new ort.Tensor('int64', BigInt64Array.from(data, (v) => BigInt(v)), [2, n]);
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { input_ids: t(a.ids, a.n), attention_mask: t(a.mask, a.n) };
  if (b) Object.assign(feeds, { input_ids2: t(b.ids, b.n), attention_mask2: t(b.mask, b.n) });
  const logits = (await session.run(feeds)).logits;
  assert.equal(logits.dims.length, 2);
  assert.equal(logits.dims[0], 2);
  return logits.data as Float32Array;
}


/** One session for every case (dynamic batch and sequence axes); each case's logits against the engine's. */
async function checkAgainstEngine(model: LraClassifier, label: string, cases: Record<string, [Doc] | [Doc, Doc]>): Promise<void> {
  const session = await ort.InferenceSession.create(exportLraOnnx(model), SESSION);
  const errors: Record<string, number> = {};
  try {
    for (const [name, [a, b]] of Object.entries(cases)) {
      const want = engineLogits(model, a, b);
      assert.ok(want.some((x) => Math.abs(x) > 1e-3), `${label} ${name}: the logits are all near 0, a weak test`);
      errors[name] = maxAbsError(await onnxLogits(session, a, b), want);
    }
  } finally {
    await session.release();
  }
  console.log(JSON.stringify({ case: label, max_abs_err: errors }));
  for (const [name, err] of Object.entries(errors)) assert.ok(err <= TOLERANCE, `${label} ${name}: max abs error ${err} > ${TOLERANCE}`);
}

test('ONNX = engine: LRA softmax, padded batches of two lengths', async () => {
  const model = tinyModel('softmax');
  try {
    await checkAgainstEngine(model, 'softmax', { 'n=20': [doc(20, 13, 1)], 'n=7': [doc(7, 3, 2)] });
  } finally {
    model.dispose();
  }
});

test('ONNX = engine: LRA nystrom-8 with n below, at and above m, uneven and even segments', async () => {
  const model = tinyModel('nystrom-8');
  try {
    await checkAgainstEngine(model, 'nystrom-8', {
      'n=5 (exact)': [doc(5, 3, 3)], 'n=8 (exact)': [doc(8, 6, 4)], 'n=20 (uneven)': [doc(20, 13, 5)],
      'n=24 (even)': [doc(24, 17, 6)], 'n=64 (maxLength)': [doc(64, 41, 7)],
    });
  } finally {
    model.dispose();
  }
});

test('ONNX = engine: LRA nystrom-8 padded to a fixed length (padTo 32): shorter inputs, one 32 long, one longer', async () => {
  const model = tinyModel('nystrom-8', { maxLength: 40, padTo: 32 });
  try {
    await checkAgainstEngine(model, 'nystrom-8 padTo 32', { 'n=20': [doc(20, 13, 16)], 'n=32': [doc(32, 25, 17)], 'n=36 (past padTo)': [doc(36, 30, 18)] });
  } finally {
    model.dispose();
  }
});

test('ONNX = engine: LRA linformer-16, E and F cut to n or used whole', async () => {
  const model = tinyModel('linformer-16');
  try {
    await checkAgainstEngine(model, 'linformer-16', { 'n=20': [doc(20, 13, 8)], 'n=64 (maxLength)': [doc(64, 50, 9)] });
  } finally {
    model.dispose();
  }
});

test('ONNX = engine: LRA performer-16', async () => {
  const model = tinyModel('performer-16');
  try {
    await checkAgainstEngine(model, 'performer-16', { 'n=20': [doc(20, 13, 10)], 'n=33': [doc(33, 20, 11)] });
  } finally {
    model.dispose();
  }
});

test('ONNX = engine: the dual (Retrieval) encoder, documents of different lengths, weights stored once', async () => {
  const model = tinyModel('nystrom-8', { dual: true });
  try {
    await checkAgainstEngine(model, 'dual nystrom-8', {
      'n=20 + n=6': [doc(20, 13, 12), doc(6, 4, 13)], 'n=12 + n=30': [doc(12, 12, 14), doc(30, 9, 15)],
    });
    const single = tinyModel('nystrom-8', { dual: false });
    // only the classifier's first layer grows (4·dim inputs, not dim): the encoder is not stored twice
    assert.equal(lraOnnxGraph(model).weightBytes, lraOnnxGraph(single).weightBytes + 3 * 16 * 128 * 4);
    single.dispose();
  } finally {
    model.dispose();
  }
});

test('ONNX LRA: an input longer than maxLength fails at the position table', async () => {
  const model = tinyModel('softmax', { maxLength: 16 });
  const session = await ort.InferenceSession.create(exportLraOnnx(model), { ...SESSION, logSeverityLevel: 4 });
  try {
    await assert.rejects(onnxLogits(session, doc(17, 17, 1)), /position embeddings \(an input longer than maxLength = 16/);
  } finally {
    await session.release();
    model.dispose();
  }
});

test('LRA run folders: config.json and the weights reload the same logits, Performer features included', withTempDir('nystromformer-onnx-lra-', async (dir) => {
  const model = tinyModel('performer-16');
  const reloaded: LraClassifier[] = [];
  try {
    const features = model.encoder.blocks.items.map((b) => b.attention.features!);
    assert.ok(!model.parameters().some((p) => features.includes(p)), 'the random features are not trained');
    assert.ok('encoder.blocks.1.attention.features' in (await moduleTensors(model)), 'but they are saved');
    writeLraConfig(dir, model);
    assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).model_type, 'lra-classifier');
    assert.deepEqual(readLraConfig(dir), model.config);
    // a run without best/ loads the latest checkpoint
    await saveCheckpoint(dir, model, new AdamW(model.namedParameters()), { step: 3, epoch: 0, batch: 0, seedState: 1 });
    mkdirSync(join(dir, 'best'));
    writeSafetensorsSync(join(dir, 'best', 'weights.safetensors'), await moduleTensors(model));
    const batch = doc(20, 13, 16);
    const want = engineLogits(model, batch);
    for (const remove of [false, true]) {
      if (remove) rmSync(join(dir, 'best'), { recursive: true });
      const loaded = loadLraRun(dir);
      reloaded.push(loaded);
      assert.equal(loaded.training, false);
      assert.deepEqual(engineLogits(loaded, batch), want, remove ? 'from the checkpoint' : 'from best/');
      loaded.encoder.blocks.items.forEach((b, i) => assert.deepEqual(b.attention.features!.toArray(), features[i].toArray()));
    }
  } finally {
    model.dispose();
    reloaded.forEach((m) => m.dispose());
  }
}));

test('LRA run folders: a missing or malformed config or weights is named', withTempDir('nystromformer-onnx-lra-', async (dir) => {
  const config = join(dir, 'config.json');
  assert.throws(() => loadLraRun(dir), (e: Error) => e.message.includes(config) && /no such file/.test(e.message));
  writeFileSync(config, '{"model_type": "lra-classifier", ');
  assert.throws(() => loadLraRun(dir), (e: Error) => e.message.startsWith(`${config}: cannot read the LRA model config`));
  writeFileSync(config, JSON.stringify({ model_type: 'nystromformer' }));
  assert.throws(() => loadLraRun(dir), (e: Error) => e.message === `${config}: model_type must be 'lra-classifier', got "nystromformer"`);
  const model = tinyModel('performer-4');
  try {
    writeLraConfig(dir, model);
    const good = JSON.parse(readFileSync(config, 'utf8'));
    writeFileSync(config, JSON.stringify({ ...good, heads: 0 }));
    assert.throws(() => loadLraRun(dir), (e: Error) => e.message === `${config}: heads must be a positive integer, got 0`);
    writeFileSync(config, JSON.stringify({ ...good, attention: 'nystrom' }));
    assert.throws(() => loadLraRun(dir), (e: Error) => e.message.startsWith(`${config}: LRA attention must be softmax, nystrom-<m>`));
    writeLraConfig(dir, model);
    assert.throws(() => loadLraRun(dir), /no weights \(neither best\/weights\.safetensors nor a checkpoint/);
    // weights saved before the features were a buffer
    const tensors = await moduleTensors(model);
    delete tensors['encoder.blocks.0.attention.features'];
    mkdirSync(join(dir, 'best'));
    const weights = join(dir, 'best', 'weights.safetensors');
    writeSafetensorsSync(weights, tensors);
    assert.throws(() => loadLraRun(dir), (e: Error) => e.message === `${weights}: no tensor 'encoder.blocks.0.attention.features' for this model`);
  } finally {
    model.dispose();
  }
}));

test('CLI: lra writes config.json; export turns the run folder into onnx/model.onnx that runs like the engine', withTempDir('nystromformer-onnx-lra-', async (dir) => {
  const run = join(dir, 'run');
  const seed = 5;
  const trained = cli([
    'lra', '--task', 'listops', '--attention', 'performer-4', '--length', '32', '--steps', '2', '--warmup', '1', '--batch-size', '4',
    '--train-size', '16', '--eval-size', '8', '--eval-every', '1', '--seed', String(seed), '--out', run, '--json',
  ]);
  assert.equal(trained.status, 0, trained.stderr);
  const config = readLraConfig(run);
  assert.equal(config.attention, 'performer-4');
  assert.equal(config.maxLength, 32);
  const loaded = loadLraRun(run);
  manualSeed(seed);
  const initial = new LraClassifier(config); // the run's model before training, as lraCommand built it
  try {
    loaded.encoder.blocks.items.forEach((b, i) => {
      assert.deepEqual(b.attention.features!.toArray(), initial.encoder.blocks.items[i].attention.features!.toArray(), `block ${i}: features saved, not trained`);
    });
    assert.notDeepEqual(loaded.output.weight.toArray(), initial.output.weight.toArray(), 'the parameters were trained');

    const out = join(dir, 'exported');
    const exported = cli(['export', '--model', run, '--out', out, '--json']);
    assert.equal(exported.status, 0, exported.stderr);
    const report = JSON.parse(exported.stdout);
    assert.equal(report.architecture, 'LraClassifier');
    assert.deepEqual(report.files, ['config.json', join('onnx', 'model.onnx')]);
    assert.equal(readFileSync(join(out, 'config.json'), 'utf8'), readFileSync(join(run, 'config.json'), 'utf8'));
    const session = await ort.InferenceSession.create(join(out, 'onnx', 'model.onnx'), SESSION);
    try {
      const ids = doc(32, 21, 17);
      ids.ids.forEach((id, i) => (ids.ids[i] = id % config.vocabSize));
      const err = maxAbsError(await onnxLogits(session, ids), engineLogits(loaded, ids));
      console.log(JSON.stringify({ case: 'exported lra run (performer-4)', max_abs_err: err }));
      assert.ok(err <= TOLERANCE, `max abs error ${err}`);
    } finally {
      await session.release();
    }
    await assert.rejects(exportFolder(run, join(dir, 'again'), { attention: 'softmax' }), /config\.json: an LRA run exports its own attention; attention apply/);
  } finally {
    loaded.dispose();
    initial.dispose();
  }
}));
