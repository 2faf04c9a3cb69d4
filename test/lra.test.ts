/** The Long Range Arena encoder: every attention trains, pooling ignores padding, the dual-encoder head. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backward, full, gradients, noGrad, randn, Tensor, tidy } from '../src/engine/index.js';
import { checkMaskValues, linformerAttention, nystromAttention, orthogonalRandomFeatures, performerAttention, softmaxAttention } from '../src/attention/index.js';
import { generateListOps, listOpsTokens, LISTOPS_VOCAB } from '../src/data/listops.js';
import { LraClassifier, LRA_NYSTROM, parseAttention } from '../src/models/index.js';
import { loadLraRun } from '../src/models/lra/run.js';
import { manualSeed } from '../src/nn/index.js';
import { AdamW } from '../src/train/index.js';
import { assertClose } from './check.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

const batch = (rows: number[][], n: number) => {
  const ids = new Int32Array(rows.length * n);
  const mask = new Float32Array(rows.length * n);
  rows.forEach((r, b) => {
    ids.set(r.slice(0, n), b * n);
    mask.fill(1, b * n, b * n + Math.min(r.length, n));
  });
  return { inputIds: Tensor.from(ids, [rows.length, n], 'int32'), attentionMask: Tensor.from(mask, [rows.length, n]) };
};

const argmax = (xs: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
};

test('attention names', () => {
  assert.deepEqual(parseAttention('nystrom-64'), { name: 'nystrom', size: 64 });
  assert.deepEqual(parseAttention('softmax'), { name: 'softmax' });
  assert.throws(() => parseAttention('reformer-8'), /must be softmax, nystrom-<m>, linformer-<k> or performer-<m>, got 'reformer-8'/);
});

/** The seeded first loss of each attention (manualSeed(5), the batch below), to 1e-4: a change to
 * initialisation, the encoder or the attention's forward moves it; float noise across kernels does not. */
const FIRST_LOSS: Record<string, number> = { softmax: 2.42133, 'nystrom-8': 2.25194, 'linformer-16': 2.47687, 'performer-16': 2.23819 };

for (const attention of ['softmax', 'nystrom-8', 'linformer-16', 'performer-16']) {
  test(`${attention}: a few AdamW steps on ListOps lower the loss of a fixed batch and fit it`, () => {
    manualSeed(5);
    const model = new LraClassifier({ vocabSize: 32, maxLength: 64, classes: 10, attention, dim: 32, ffn: 64, dropout: 0 });
    const data = generateListOps({ count: 8, seed: 2, minLength: 20, maxLength: 60 });
    const rows = data.map((e) => listOpsTokens(e.source).map((t) => LISTOPS_VOCAB[t]));
    const labels = Tensor.from(Int32Array.from(data, (e) => e.target), [8], 'int32');
    const optimizer = new AdamW(model.namedParameters(), { weightDecay: 0 });
    const losses: number[] = [];
    for (let step = 0; step < 12; step++) {
      losses.push(tidy(() => {
        const out = model.forward({ ...batch(rows, 64), labels });
        backward(out.loss!);
        return out.loss!.item();
      }));
      optimizer.apply(3e-3);
      optimizer.zeroGrad();
    }
    assert.ok(Math.abs(losses[0] - FIRST_LOSS[attention]) < 1e-4, `seeded first loss ${losses[0]}, want ${FIRST_LOSS[attention]}`);
    assert.ok(losses[11] < 0.8 * losses[0], `loss ${losses[0]} → ${losses[11]}`);
    // 12 steps fit the 8 examples: at least 7 right, where chance is 1 in 10 and the commonest label 3 in 8
    const logits = noGrad(() => tidy(() => model.forward(batch(rows, 64)).logits.toArray()));
    const right = data.filter((e, i) => argmax(logits.slice(i * 10, i * 10 + 10)) === e.target).length;
    assert.ok(right >= 7, `${right} of 8 right after 12 steps`);
    model.dispose();
    labels.dispose();
  });
}

// The encoder runs a batch without padding unmasked (it reads the mask once anyway); that is only
// a saving if an all-ones mask changes no bit of any attention's output or gradients.
test('checkMaskValues says whether a mask has padding, and rejects values other than 0 and 1', () => {
  assert.equal(checkMaskValues('m', [1, 1, 1, 1, 1, 0], 3), true);
  assert.equal(checkMaskValues('m', [1, 1, 1, 1, 1, 1], 3), false);
  assert.throws(() => checkMaskValues('m', [1, 0, 1, 0.5], 2), /m: mask values must be 0 or 1, got 0.5 at \[1, 1\]/);
});

test('every LRA attention: an all-ones mask gives the same bits as no mask, forward and backward', () => {
  const [B, H, n, d] = [2, 2, 24, 8];
  const conv = randn([H, 1, 5, 1], 4, 0, 0.2);
  const attentions: Record<string, (q: Tensor, k: Tensor, v: Tensor, mask?: Tensor) => Tensor> = {
    softmax: (q, k, v, mask) => softmaxAttention(q, k, v, { mask }),
    nystrom: (q, k, v, mask) => nystromAttention(q, k, v, { ...LRA_NYSTROM, numLandmarks: 5, mask, convWeight: conv }),
    linformer: (q, k, v, mask) => linformerAttention(q, k, v, { projectKeys: randn([6, n], 5), projectValues: randn([6, n], 6), mask }),
    performer: (q, k, v, mask) => performerAttention(q, k, v, { features: orthogonalRandomFeatures(7, d, 8), mask }),
  };
  for (const [name, attend] of Object.entries(attentions)) {
    tidy(() => {
      const [q, k, v] = [1, 2, 3].map((seed) => Object.assign(randn([B, H, n, d], seed), { requiresGrad: true }));
      const dy = randn([B, H, n, d], 9);
      const run = (mask?: Tensor) => {
        const out = attend(q, k, v, mask);
        return [out, ...gradients([out], [q, k, v], [dy])].map((t) => Array.from(t.toArray()));
      };
      const [masked, unmasked] = [run(full([B, n], 1)), run()];
      ['output', 'dq', 'dk', 'dv'].forEach((what, i) => assert.deepEqual(masked[i], unmasked[i], `${name}: ${what}`));
    });
  }
});

test('mean pooling ignores padding (softmax attention): extra padded positions change nothing', () => {
  manualSeed(1);
  const model = new LraClassifier({ vocabSize: 32, maxLength: 40, classes: 3, attention: 'softmax', dim: 16, ffn: 32, dropout: 0 });
  const rows = [[11, 2, 3, 15], [12, 5, 6, 7, 15]];
  const [short, long] = noGrad(() => tidy(() => [model.forward(batch(rows, 5)).logits.toArray(), model.forward(batch(rows, 40)).logits.toArray()]));
  assertClose(long, short, { rtol: 1e-5, atol: 1e-6 }, 'logits with 35 more padded positions');
  model.dispose();
});

test('padTo: the input is padded with masked tokens and pooling averages over all padTo positions', () => {
  const config = { vocabSize: 32, maxLength: 24, classes: 3, attention: 'nystrom-4', dim: 16, ffn: 32, dropout: 0 };
  manualSeed(3);
  const fixed = new LraClassifier({ ...config, padTo: 24 });
  manualSeed(3);
  const dynamic = new LraClassifier(config); // the same weights, mean over the real tokens
  const rows = [[11, 2, 3, 15, 4, 4, 9], [12, 5, 6, 7, 15, 1, 1, 1, 2, 3, 4]];
  noGrad(() => tidy(() => {
    const pooledFixed = fixed.encoder.forward(batch(rows, 11).inputIds, batch(rows, 11).attentionMask).toArray();
    const full = batch(rows, 24); // padded by hand to the fixed length
    const pooledDynamic = dynamic.encoder.forward(full.inputIds, full.attentionMask).toArray();
    // the official mean: Σ over the real tokens / 24 = (the mean over the real tokens) · length / 24
    const want = Float32Array.from(pooledDynamic, (v, i) => (v * rows[Math.floor(i / 16)].length) / 24);
    assertClose(pooledFixed, want, { rtol: 1e-5, atol: 1e-7 }, 'pooled, padTo 24');
    assert.ok(want.some((v) => Math.abs(v) > 1e-2), 'a weak test: pooled values near 0');
  }));
  assert.throws(() => new LraClassifier({ ...config, padTo: 25 }), /padTo must be 0 or an integer in \[1, maxLength = 24\], got 25/);
  fixed.dispose();
  dynamic.dispose();
});

test('the dual encoder (Retrieval): a head over [x0, x1, x0·x1, x0 − x1], two documents required; length limit', () => {
  manualSeed(2);
  const model = new LraClassifier({ vocabSize: 32, maxLength: 16, classes: 2, attention: 'nystrom-4', dim: 16, ffn: 32, dual: true, dropout: 0 });
  assert.deepEqual([...model.hidden.weight.shape], [128, 64]);
  const a = batch([[1, 2, 3, 4, 5, 6, 7, 8]], 8);
  const b = batch([[9, 9, 8, 8, 7, 7, 6, 6]], 8);
  const logits = noGrad(() => tidy(() => model.forward({ ...a, inputIds2: b.inputIds, attentionMask2: b.attentionMask }).logits.toArray()));
  assert.equal(logits.length, 2);
  assert.throws(() => noGrad(() => tidy(() => model.forward(a))), /inputIds2 and attentionMask2 are required/);
  assert.throws(() => noGrad(() => tidy(() => model.forward(batch([[1]], 17)))), /17 tokens is longer than maxLength 16/);
  model.dispose();
});

test('CLI: nystromformer lra trains on generated ListOps, writes the official TSVs, and reads them back with --data', () => {
  const out = mkdtempSync(join(tmpdir(), 'nystromformer-lra-'));
  try {
    const run = (args: string[]) => spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'lra', '--steps', '6', '--warmup', '2', '--length', '128',
      '--train-size', '48', '--eval-size', '16', '--eval-every', '3', '--batch-size', '8', '--json', ...args], { encoding: 'utf8', timeout: 120_000 });
    const first = run(['--out', join(out, 'a'), '--dynamic-padding']);
    assert.equal(first.status, 0, first.stderr);
    const a = JSON.parse(first.stdout);
    assert.equal(a.steps, 6);
    // seed 1, generated data: known results (6 steps learn nothing yet; these pin the data, init and training loop)
    const [firstStep, secondStep] = readFileSync(join(out, 'a', 'train.jsonl'), 'utf8').split('\n').slice(0, 2).map((l) => JSON.parse(l));
    assert.equal(firstStep.step, 1);
    assert.ok(Math.abs(firstStep.loss - 2.48547) < 1e-4, `seeded step-1 loss ${firstStep.loss}`);
    // OneCycleLR as the official code: lr/25 at the first step, the peak at the last warm-up step
    assert.equal(firstStep.lr, 1e-4 / 25);
    assert.equal(secondStep.lr, 1e-4);
    // the test set scores the best validation's weights: step 3 (step 6 only ties it)
    assert.equal(a.best_step, 3);
    assert.equal(a.eval_every, 3);
    assert.ok(Math.abs(a.test_loss - 2.31842) < 1e-3, `seeded test loss ${a.test_loss}`);
    assert.equal(Math.round(a.test_accuracy * 16), 0, `seeded test accuracy ${a.test_accuracy}`);
    assert.equal(typeof a.final_test_accuracy, 'number');
    // the LRA encoder on 8×128 tokens (nystrom-64) measured 58 MB; 256 MB would mean something n²-sized or leaked
    assert.ok(a.ms_per_step > 0 && a.peak_mb > 0 && a.peak_mb < 256, `ms ${a.ms_per_step}, peak ${a.peak_mb} MB`);
    assert.ok(existsSync(join(out, 'a', 'data', 'basic_train.tsv')));
    const again = run(['--out', join(out, 'b'), '--data', join(out, 'a', 'data'), '--dynamic-padding']);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).test_accuracy, a.test_accuracy, 'the same data and seed give the same result');
    // by default, as the official code: every input padded to the length rounded up to a power of two
    const fixed = run(['--out', join(out, 'd'), '--data', join(out, 'a', 'data'), '--length', '100']);
    assert.equal(fixed.status, 0, fixed.stderr);
    assert.equal(JSON.parse(fixed.stdout).pad_to, 128);
    assert.equal(a.pad_to, 0);
    const config = JSON.parse(readFileSync(join(out, 'd', 'config.json'), 'utf8'));
    assert.deepEqual([config.padTo, config.maxLength], [128, 128]);
    assert.equal(loadLraRun(join(out, 'd')).config.padTo, 128);
    const bad = run(['--out', join(out, 'c'), '--attention', 'reformer-4']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /LRA attention must be softmax, nystrom-<m>, linformer-<k> or performer-<m>/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('CLI: bench lra-step prints one JSON line per attention and length', () => {
  const r = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'bench', 'lra-step', '--n', '64', '--attention', 'softmax,nystrom-8,linformer-16,performer-16', '--json'],
    { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.attention), ['softmax', 'nystrom-8', 'linformer-16', 'performer-16']);
  // each step at n = 64 measured 3 MB; over 32 MB would mean something n²-sized or leaked
  assert.ok(lines.every((l) => l.bench === 'lra-step' && l.n === 64 && l.ms > 0 && l.peak_mb > 0 && l.peak_mb < 32), JSON.stringify(lines));
});

test('CLI: bench train and bench model print one JSON line per attention and length', () => {
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'bench', ...args, '--n', '32', '--layers', '1', '--hidden', '16', '--heads', '2',
      '--landmarks', '4', '--repeats', '1', '--json'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  };
  const trainLines = run(['train']);
  assert.deepEqual(trainLines.map((l) => l.attention), ['nystrom', 'softmax']);
  assert.ok(trainLines.every((l) => l.bench === 'train' && l.n === 32 && l.ms_per_step >= 0 && l.tokens_per_s > 0));
  const modelLines = run(['model']);
  assert.deepEqual(modelLines.map((l) => l.attention), ['nystrom', 'hf']);
  assert.ok(modelLines.every((l) => l.bench === 'model' && l.n === 32 && l.ms >= 0 && l.weights_mb > 0));
});
