/** Optimizers, schedules, batching, checkpoints and exact resume. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parameter, Tensor } from '../src/engine/index.js';
import { majorityTask } from '../src/data/synthetic.js';
import { maskedExamples } from '../src/data/mlm.js';
import { NystromformerForSequenceClassification } from '../src/models/index.js';
import { manualSeed } from '../src/nn/index.js';
import { AdamW, SGD, epochBatches, learningRate, scheduledMomentum, train, type TrainerOptions } from '../src/train/index.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const tempDir = () => mkdtempSync(join(tmpdir(), 'nystromformer-train-'));

test('schedules: warm-up, linear and cosine decay', () => {
  const s = { base: 1, total: 110, warmup: 10 };
  assert.equal(learningRate({ ...s, kind: 'linear' }, 0), 0.1);
  assert.equal(learningRate({ ...s, kind: 'linear' }, 9), 1);
  assert.equal(learningRate({ ...s, kind: 'linear' }, 60), 0.5);
  assert.equal(learningRate({ ...s, kind: 'linear' }, 110), 0);
  assert.ok(Math.abs(learningRate({ ...s, kind: 'cosine' }, 60) - 0.5) < 1e-12);
  assert.ok(Math.abs(learningRate({ ...s, kind: 'cosine' }, 35) - 0.5 * (1 + Math.cos(Math.PI / 4))) < 1e-12);
  assert.equal(learningRate({ ...s, kind: 'constant', warmup: 0 }, 77), 1);
  assert.equal(scheduledMomentum({ ...s, kind: 'linear' }, 4), undefined, 'only onecycle sets the momentum');
  assert.throws(() => learningRate({ ...s, kind: 'steep' as never }, 1), /schedule must be one of/);
});

/** PyTorch's OneCycleLR over AdamW as the official LRA code builds them (scripts/fixtures/make_onecycle_fixture.py). */
const oneCycleFixture = JSON.parse(readFileSync(join(repo, 'test/fixtures/train/onecycle.json'), 'utf8')) as {
  cases: { max_lr: number; total: number; warmup: number; lr: number[]; beta1: number[]; weights_before?: number[]; weights_after?: number[] }[];
};

test('onecycle: the lr and β₁ of PyTorch OneCycleLR at every step (warm-up 5 of 20, 1000 of 5000, none)', () => {
  assert.equal(oneCycleFixture.cases.length, 3);
  for (const c of oneCycleFixture.cases) {
    const s = { kind: 'onecycle' as const, base: c.max_lr, total: c.total, warmup: c.warmup };
    assert.equal(c.lr.length, c.total);
    c.lr.forEach((want, step) => {
      assert.ok(Math.abs(learningRate(s, step) - want) <= 1e-15 * c.max_lr, `total ${c.total} step ${step}: lr ${learningRate(s, step)}, PyTorch ${want}`);
      const beta1 = scheduledMomentum(s, step)!;
      assert.ok(Math.abs(beta1 - c.beta1[step]) <= 1e-15, `total ${c.total} step ${step}: β₁ ${beta1}, PyTorch ${c.beta1[step]}`);
    });
  }
});

test('onecycle: AdamW with the cycled β₁ ends where PyTorch AdamW + OneCycleLR ends (20 steps)', () => {
  const c = oneCycleFixture.cases[0];
  const s = { kind: 'onecycle' as const, base: c.max_lr, total: c.total, warmup: c.warmup };
  const w = parameter(Tensor.from(c.weights_before!, [6]));
  const opt = new AdamW([['w', w]], { eps: 1e-6, weightDecay: 0 });
  for (let step = 0; step < c.total; step++) {
    w.grad = Tensor.from(Array.from({ length: 6 }, (_, i) => Math.sin(0.7 * (step + 1) + i)), [6]);
    opt.apply(learningRate(s, step), 1, scheduledMomentum(s, step));
    w.grad.dispose();
    w.grad = null;
  }
  const got = Array.from(w.toArray());
  got.forEach((x, i) => assert.ok(Math.abs(x - c.weights_after![i]) <= 1e-6, `w[${i}] = ${x}, PyTorch ${c.weights_after![i]}`));
  // without the cycled β₁ (0.9 throughout) the weights land measurably elsewhere: the check can fail
  const w2 = parameter(Tensor.from(c.weights_before!, [6]));
  const plain = new AdamW([['w', w2]], { eps: 1e-6, weightDecay: 0 });
  for (let step = 0; step < c.total; step++) {
    w2.grad = Tensor.from(Array.from({ length: 6 }, (_, i) => Math.sin(0.7 * (step + 1) + i)), [6]);
    plain.apply(learningRate(s, step), 1);
    w2.grad.dispose();
    w2.grad = null;
  }
  assert.ok(Array.from(w2.toArray()).some((x, i) => Math.abs(x - c.weights_after![i]) > 1e-5));
  opt.dispose();
  plain.dispose();
  w.dispose();
  w2.dispose();
});

test('AdamW: bias-corrected update, decoupled decay except on biases; SGD momentum; clipping', async () => {
  const w = parameter(Tensor.from([1, -2], [2]));
  const b = parameter(Tensor.from([0.5], [1]));
  w.grad = Tensor.from([0.1, -0.3], [2]);
  b.grad = Tensor.from([2], [1]);
  const opt = new AdamW([['layer.weight', w], ['layer.bias', b]], { weightDecay: 0.1, eps: 0 });
  opt.apply(0.01);
  // step 1: m̂ = g, v̂ = g², so the update is lr·sign(g); the weight also shrinks by lr·decay
  assert.deepEqual(Array.from(w.toArray()), [Math.fround(1 * (1 - 0.001) - 0.01), Math.fround(-2 * (1 - 0.001) + 0.01)]);
  assert.deepEqual(Array.from(b.toArray()), [Math.fround(0.5 - 0.01)]);
  const clip = await opt.clip(1);
  assert.ok(Math.abs(clip.norm - Math.hypot(0.1, 0.3, 2)) < 1e-6);
  assert.ok(Math.abs(clip.scale * clip.norm - 1) < 1e-5);
  assert.equal((await opt.clip(0)).scale, 1);
  const sgd = new SGD([['w', w]], 0.5);
  const before = Array.from(w.toArray());
  sgd.apply(0.1);
  sgd.apply(0.1); // buffer: g, then 0.5·g + g
  const expected = before.map((x, i) => Math.fround(Math.fround(x - 0.1 * [0.1, -0.3][i]) - 0.1 * 1.5 * [0.1, -0.3][i]));
  Array.from(w.toArray()).forEach((x, i) => assert.ok(Math.abs(x - expected[i]) < 1e-6));
  opt.zeroGrad();
  assert.equal(w.grad, null);
  w.dispose();
  b.dispose();
});

test('epoch batches: every example once, deterministic per (seed, epoch), similar lengths together', () => {
  const lengths = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 300);
  const a = epochBatches(lengths, 8, 3, 0);
  assert.deepEqual(a, epochBatches(lengths, 8, 3, 0));
  assert.notDeepEqual(a, epochBatches(lengths, 8, 3, 1));
  assert.deepEqual(a.flat().sort((x, y) => x - y), lengths.map((_, i) => i));
  const spread = a.map((batch) => Math.max(...batch.map((i) => lengths[i])) - Math.min(...batch.map((i) => lengths[i])));
  assert.ok(spread.reduce((s, x) => s + x, 0) / spread.length < 30, 'pooled batches pad little');
  // unbucketed (fixed-length inputs): the same examples, drawn at random, so a batch spans most lengths
  const random = epochBatches(lengths, 8, 3, 0, false);
  assert.deepEqual(random.flat().sort((x, y) => x - y), lengths.map((_, i) => i));
  const randomSpread = random.map((batch) => Math.max(...batch.map((i) => lengths[i])) - Math.min(...batch.map((i) => lengths[i])));
  assert.ok(randomSpread.reduce((s, x) => s + x, 0) / randomSpread.length > 150, 'random batches mix lengths');
});

const SMALL = {
  vocab_size: 64, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 64,
  conv_kernel_size: 3, hidden_dropout_prob: 0.1, pad_token_id: 0, num_labels: 2,
};

async function run(out: string, steps: number, resume = false): Promise<number[]> {
  manualSeed(9);
  const model = new NystromformerForSequenceClassification(SMALL, { attention: 'nystrom', numLandmarks: 4 });
  const data = majorityTask({ count: 96, seed: 4, maxLength: 40, minLength: 12 });
  const losses: number[] = [];
  const options: TrainerOptions = {
    steps, batchSize: 8, lr: 3e-3, schedule: 'constant', optimizer: 'adamw', weightDecay: 0.01, clipNorm: 1, accumulate: 2,
    evalEvery: 5, patience: 0, checkpointEvery: 5, seed: 5, padId: 0, out, resume, onStep: (r) => losses.push(r.loss),
  };
  await train(model, data.slice(0, 80), data.slice(80), options);
  model.dispose();
  return losses;
}

test('resume continues exactly: the losses after resuming equal those of an uninterrupted run', async () => {
  const [a, b] = [tempDir(), tempDir()];
  try {
    const whole = await run(a, 16);
    const first = await run(b, 10);
    assert.deepEqual(first, whole.slice(0, 10));
    const rest = await run(b, 16, true);
    assert.deepEqual(rest, whole.slice(10));
    const log = readFileSync(join(b, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(log.some((r) => r.type === 'resume' && r.step === 10));
    assert.deepEqual(readdirSync(join(b, 'checkpoints')).sort(), ['latest', 'step-15', 'step-16']);
    assert.ok(existsSync(join(b, 'best', 'model.safetensors')));
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('a non-finite loss stops training with a clear message', async () => {
  const out = tempDir();
  try {
    manualSeed(1);
    const model = new NystromformerForSequenceClassification(SMALL);
    const data = majorityTask({ count: 16, seed: 4, maxLength: 40, minLength: 12 });
    await assert.rejects(train(model, data, data, {
      steps: 50, batchSize: 8, lr: 1e30, schedule: 'constant', optimizer: 'sgd', weightDecay: 0, clipNorm: 0, accumulate: 1,
      evalEvery: 100, patience: 0, checkpointEvery: 100, seed: 1, padId: 0, out,
    }), /the (loss|gradient norm) became (NaN|-?Infinity) at step \d+; stopped before updating/);
    model.dispose();
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('kill -9 during checkpoint writes, then --resume: continues from the last complete checkpoint, same losses', async () => {
  const [killed, clean] = [tempDir(), tempDir()];
  const args = (out: string) => [join(repo, 'bin/nystromformer.js'), 'train', '--out', out, '--steps', '60', '--checkpoint-every', '1',
    '--eval-every', '1000', '--train-size', '200', '--eval-size', '16', '--batch-size', '8', '--schedule', 'constant', '--json'];
  const stepLosses = (out: string) => {
    const byStep = new Map<number, number>();
    for (const line of readFileSync(join(out, 'train.jsonl'), 'utf8').trim().split('\n')) {
      let r;
      try {
        r = JSON.parse(line);
      } catch {
        continue; // a line the kill cut short
      }
      if (r.type === 'step') byStep.set(r.step, r.loss);
    }
    return byStep;
  };
  try {
    const child = spawn(process.execPath, args(killed), { stdio: 'ignore' });
    // kill once a few checkpoints exist, i.e. in the middle of the write-every-step loop
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !existsSync(join(killed, 'checkpoints', 'step-5'))) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const resumed = spawnSync(process.execPath, [...args(killed), '--resume'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(resumed.status, 0, resumed.stderr);
    const full = spawnSync(process.execPath, args(clean), { encoding: 'utf8', timeout: 120_000 });
    assert.equal(full.status, 0, full.stderr);
    const [got, want] = [stepLosses(killed), stepLosses(clean)];
    assert.equal(got.size, 60);
    for (const [step, loss] of want) assert.equal(got.get(step), loss, `step ${step}`);
  } finally {
    rmSync(killed, { recursive: true, force: true });
    rmSync(clean, { recursive: true, force: true });
  }
});

test('CLI: fine-tuning a checkpoint on GLUE (classification, regression) and IMDB; the best model loads back', async () => {
  const out = tempDir();
  try {
    const fixtures = join(repo, 'test/fixtures');
    const runTask = (task: string, data: string, dir: string) => spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'train', '--task', task,
      '--data', data, '--model', join(fixtures, 'models/seqcls-single'), '--steps', '4', '--eval-every', '2', '--batch-size', '4', '--out', join(out, dir), '--json'],
    { encoding: 'utf8', timeout: 120_000 });
    const metricsOf = (r: ReturnType<typeof runTask>) => {
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout.trim().split('\n').pop()!);
    };
    const mrpc = metricsOf(runTask('glue/mrpc', join(fixtures, 'data/glue'), 'mrpc'));
    assert.ok(mrpc.eval.accuracy >= 0 && mrpc.eval.accuracy <= 1 && 'f1' in mrpc.eval);
    const stsb = metricsOf(runTask('glue/stsb', join(fixtures, 'data/glue'), 'stsb'));
    assert.ok('pearson' in stsb.eval && 'spearmanr' in stsb.eval);
    const csv = metricsOf(runTask('imdb', join(fixtures, 'data/reviews.csv'), 'csv'));
    assert.equal(csv.steps, 4);
    // eval of the saved best model reproduces the accuracy training recorded for it
    const evaluate = (runtime: string) => {
      const r = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'eval', '--model', join(out, 'mrpc', 'best'), '--task', 'glue/mrpc',
        '--data', join(fixtures, 'data/glue'), '--landmarks', '16', '--batch-size', '4', '--json', '--runtime', runtime], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const e = evaluate('engine');
    assert.equal(e.accuracy, mrpc.best.value);
    assert.ok('f1' in e);
    // the same evaluation with the encoder on onnxruntime
    const onnx = evaluate('onnx');
    assert.equal(onnx.accuracy, e.accuracy);
    assert.ok(Math.abs(onnx.loss - e.loss) <= 1e-4, `eval loss: onnx ${onnx.loss}, engine ${e.loss}`);
    const best = await NystromformerForSequenceClassification.fromPretrained(join(out, 'mrpc', 'best'));
    assert.deepEqual(Object.keys(best.config.id2label).length, 2);
    best.dispose();
    const bad = runTask('glue/sst2', join(out, 'nowhere'), 'bad');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /GLUE file not found: .*SST-2\/(train|dev)\.tsv/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('MLM masking: 15% of non-special tokens chosen, 80/10/10 mask/random/kept, labels only there', () => {
  const lines = [Array.from({ length: 40000 }, (_, i) => 10 + (i % 90))];
  const examples = maskedExamples(lines, { seqLen: 130, clsId: 2, sepId: 3, maskId: 4, vocabSize: 100, specialIds: [0, 1, 2, 3, 4], seed: 7 });
  assert.equal(examples.length, Math.ceil(40000 / 128));
  let chosen = 0;
  let masked = 0;
  let kept = 0;
  let total = 0;
  for (const e of examples) {
    assert.equal(e.inputIds[0], 2);
    assert.equal(e.inputIds[e.inputIds.length - 1], 3);
    e.label.forEach((l, i) => {
      if (i === 0 || i === e.inputIds.length - 1) return assert.equal(l, -100);
      total++;
      if (l < 0) return;
      chosen++;
      if (e.inputIds[i] === 4) masked++;
      else if (e.inputIds[i] === l) kept++;
      else assert.ok(e.inputIds[i] >= 5, 'random replacements are never special tokens');
    });
  }
  assert.ok(Math.abs(chosen / total - 0.15) < 0.01, `chosen ${chosen / total}`);
  assert.ok(Math.abs(masked / chosen - 0.8) < 0.02, `masked ${masked / chosen}`);
  assert.ok(Math.abs(kept / chosen - 0.1) < 0.02, `kept ${kept / chosen}`);
  assert.deepEqual(maskedExamples(lines, { seqLen: 130, clsId: 2, sepId: 3, maskId: 4, vocabSize: 100, specialIds: [0, 1, 2, 3, 4], seed: 7 }), examples);
});

test('CLI: MLM pretraining from a config and a tokenizer lowers the loss; the model fills masks', () => {
  const out = tempDir();
  try {
    const corpus = join(out, 'corpus.txt');
    const sentences = ['the film is good.', 'paris is the capital of france.', 'a bad movie was not good.', 'the city has a long story.'];
    writeFileSync(corpus, Array.from({ length: 400 }, (_, i) => sentences[(i * 7) % 4]).join('\n'));
    const config = join(out, 'config.json');
    writeFileSync(config, JSON.stringify({ hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64, conv_kernel_size: 5 }));
    const r = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'train', '--task', 'mlm', '--data', corpus, '--config', config,
      '--tokenizer', join(repo, 'test/fixtures/tokenizer'), '--seq-len', '64', '--steps', '60', '--eval-every', '30', '--lr', '3e-3',
      '--out', join(out, 'run'), '--json'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const log = readFileSync(join(out, 'run', 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.type === 'step');
    const mean = (xs: { loss: number }[]) => xs.reduce((s, x) => s + x.loss, 0) / xs.length;
    assert.ok(mean(log.slice(-10)) < 0.7 * mean(log.slice(0, 10)), `loss ${mean(log.slice(0, 10))} → ${mean(log.slice(-10))}`);
    // best/ records the attention it was trained with, which fill-mask then runs in
    const saved = JSON.parse(readFileSync(join(out, 'run', 'best', 'config.json'), 'utf8'));
    assert.deepEqual(saved.nystromformer_attention, { mode: 'nystrom', num_landmarks: 16, pinv_init: 'original', pinv_iterations: 6 });
    const fill = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'fill-mask', '--model', join(out, 'run', 'best'), '--json', 'paris is the [MASK] of france.'], { encoding: 'utf8' });
    assert.equal(fill.status, 0, fill.stderr);
    assert.equal(JSON.parse(fill.stdout).masks[0].length, 5);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
