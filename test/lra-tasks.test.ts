/** Long Range Arena's data (bytes, AAN pairs, CIFAR-10, IDX), pairs through collate, and the lra / lra-report commands on them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { grayLevel } from '../src/io/index.js';
import { isPaperBudget, reportMarkdown, reportSvg, type Run } from '../src/cli/lra-report.js';
import { byteIds, listOpsGeneratorOf, readAan, readCifar10Batch, readIdxImages, readImageFolder } from '../src/data/index.js';
import { LISTOPS_GENERATOR } from '../src/data/listops.js';
import { collate } from '../src/train/index.js';
import { withTempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = (args: string[]) => spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), ...args], { encoding: 'utf8', timeout: 180_000 });

/** An IDX file of unsigned bytes with the given dimensions. */
function idx(dims: number[], data: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt8(0x08, 2);
  header.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

/** A CIFAR-10 record: label, then the red, green and blue planes. */
const cifarRecord = (label: number, r: number, g: number, b: number) => Buffer.concat([Buffer.from([label]), Buffer.alloc(1024, r), Buffer.alloc(1024, g), Buffer.alloc(1024, b)]);

test('bytes: UTF-8 bytes shifted by one (0 is padding), cut at maxBytes', () => {
  assert.deepEqual(byteIds('aé', 10), [0x61 + 1, 0xc3 + 1, 0xa9 + 1]);
  assert.deepEqual(byteIds('abc', 2), [98, 99]);
  assert.deepEqual(byteIds('\u00ff'.repeat(3), 6).every((id) => id >= 1 && id <= 256), true);
});

test('AAN pairs: label, ids and two texts per row; a malformed row is skipped with file:line, or fails', withTempDir('nystromformer-lra-data-', async (dir) => {
  const path = join(dir, 'new_aan_pairs.train.tsv');
  writeFileSync(path, '1.0\tP1\tP2\tfirst text\tsecond\n0\tP3\tP4\tab\n0\tP5\tP6\tx\tyz\n2\tP7\tP8\ta\tb\n');
  const warnings: string[] = [];
  const rows = await readAan(path, 4, { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(rows, [
    { inputIds: byteIds('firs', 4), inputIds2: byteIds('seco', 4), label: 1 },
    { inputIds: byteIds('x', 4), inputIds2: byteIds('yz', 4), label: 0 },
  ]);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /new_aan_pairs\.train\.tsv:2: expected 5 tab-separated columns/);
  assert.match(warnings[1], /:4: label must be 0 or 1, got '2'/);
  await assert.rejects(readAan(path, 4, { onBadRow: 'fail' }), /train\.tsv:2: expected 5/);
  await assert.rejects(readAan(join(dir, 'missing.tsv')), /missing\.tsv: cannot read the AAN pairs file/);
}));

test('CIFAR-10 batches: gray levels by tf.image.rgb_to_grayscale weights, labels; truncated and foreign files refused', withTempDir('nystromformer-lra-data-', async (dir) => {
  const path = join(dir, 'data_batch_1.bin');
  writeFileSync(path, Buffer.concat([cifarRecord(3, 255, 0, 0), cifarRecord(9, 10, 200, 30)]));
  const [a, b] = await readCifar10Batch(path);
  assert.equal(a.label, 3);
  assert.equal(a.inputIds.length, 1024);
  assert.ok(a.inputIds.every((v) => v === 76), `red 255 → ${a.inputIds[0]}`); // 0.2989 · 255 = 76.2
  assert.equal(b.inputIds[1023], grayLevel(10, 200, 30));
  assert.equal(grayLevel(10, 200, 30), Math.round(0.2989 * 10 + 0.587 * 200 + 0.114 * 30));
  writeFileSync(path, cifarRecord(3, 1, 2, 3).subarray(0, 3000));
  await assert.rejects(readCifar10Batch(path), /3000 bytes is not a whole number of 3073-byte CIFAR-10 records/);
  writeFileSync(path, cifarRecord(12, 1, 2, 3));
  await assert.rejects(readCifar10Batch(path), /record 0 has label 12/);
}));

test('IDX image sets, plain or gzipped: row-by-row pixels and labels; mismatches named', withTempDir('nystromformer-lra-data-', async (dir) => {
  const pixels = [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15];
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idx([2, 2, 3], pixels)));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx([2], [7, 1]));
  const set = await readIdxImages(join(dir, 'train-images-idx3-ubyte.gz'), join(dir, 'train-labels-idx1-ubyte'));
  assert.deepEqual(set, [{ inputIds: [0, 1, 2, 3, 4, 5], label: 7 }, { inputIds: [10, 11, 12, 13, 14, 15], label: 1 }]);
  writeFileSync(join(dir, 'bad-labels'), idx([3], [1, 2, 3]));
  await assert.rejects(readIdxImages(join(dir, 'train-images-idx3-ubyte.gz'), join(dir, 'bad-labels')), /bad-labels: 3 labels for 2 images/);
  writeFileSync(join(dir, 'short'), idx([2, 2, 3], pixels).subarray(0, 20));
  await assert.rejects(readIdxImages(join(dir, 'short'), join(dir, 'bad-labels')), /short: dimensions 2×2×3 need 28 bytes, the file has 20/);
  writeFileSync(join(dir, 'text'), 'hello world');
  await assert.rejects(readIdxImages(join(dir, 'text'), join(dir, 'bad-labels')), /text: not an IDX file/);
  await assert.rejects(readImageFolder(join(dir, 'nothing')), /no image set found; expected CIFAR-10 binary batches/);
}));

test('collate: the second documents of pairs are padded on their own; single sequences and pairs do not mix', () => {
  const batch = collate([{ inputIds: [5, 6, 7], inputIds2: [8], label: 1 }, { inputIds: [5], inputIds2: [9, 9], label: 0 }], 0);
  assert.deepEqual([...batch.inputIds.shape], [2, 3]);
  assert.deepEqual([...batch.inputIds2!.toArray()], [8, 0, 9, 9]);
  assert.deepEqual([...batch.attentionMask2!.toArray()], [1, 0, 1, 1]);
  assert.throws(() => collate([{ inputIds: [1], inputIds2: [2], label: 0 }, { inputIds: [1], label: 0 }], 0), /mixes single sequences and pairs/);
});

test('CLI: lra on Retrieval pairs and on an IDX image set, then lra-report tabulates and charts the runs', withTempDir('nystromformer-lra-data-', (dir) => {
  const aan = join(dir, 'aan');
  mkdirSync(aan);
  const rows = Array.from({ length: 24 }, (_, i) => `${i % 2}\tA${i}\tB${i}\t${'cites '.repeat(1 + (i % 5))}\t${i % 2 ? 'cited' : 'other'} paper ${i}`).join('\n');
  for (const file of ['new_aan_pairs.train.tsv', 'new_aan_pairs.eval.tsv', 'new_aan_pairs.test.tsv']) writeFileSync(join(aan, file), rows + '\n');
  const common = ['--steps', '4', '--warmup', '1', '--batch-size', '8', '--eval-every', '2', '--json'];
  const retrieval = cli(['lra', '--task', 'retrieval', '--attention', 'nystrom-4', '--data', aan, '--length', '64', '--out', join(dir, 'runs', 'retrieval'), ...common]);
  assert.equal(retrieval.status, 0, retrieval.stderr);
  const r = JSON.parse(retrieval.stdout);
  assert.equal(r.task, 'retrieval');
  assert.equal(r.steps, 4);

  const images = join(dir, 'images');
  mkdirSync(images);
  const count = 40;
  const labels = Array.from({ length: count }, (_, i) => i % 10);
  const pixels = labels.flatMap((l) => Array.from({ length: 64 }, (_, p) => (l * 25 + p) % 256));
  for (const split of ['train', 't10k']) {
    writeFileSync(join(images, `${split}-images-idx3-ubyte`), idx([count, 8, 8], pixels));
    writeFileSync(join(images, `${split}-labels-idx1-ubyte`), idx([count], labels));
  }
  const image = cli(['lra', '--task', 'image', '--attention', 'softmax', '--data', images, '--out', join(dir, 'runs', 'image'), ...common]);
  assert.equal(image.status, 0, image.stderr);
  const i = JSON.parse(image.stdout);
  assert.equal(i.length, 1024, 'the paper length by default');
  assert.equal(i.train_examples, 36, 'a tenth of the training images held out for validation');

  const text = cli(['lra', '--task', 'text', '--out', join(dir, 'runs', 'text')]);
  assert.equal(text.status, 1);
  assert.match(text.stderr, /lra --task text needs --data: the aclImdb folder/);

  const scaling = join(dir, 'scaling.jsonl');
  writeFileSync(scaling, ['softmax', 'nystrom-4'].flatMap((a) => [1024, 2048].map((n) => JSON.stringify({ bench: 'lra-step', attention: a, n, batch: 1, ms: Math.round(n / 10), peak_mb: Math.round(n / 100) }))).join('\n') + '\n');
  const report = cli(['lra-report', join(dir, 'runs'), '--scaling', scaling, '--out', join(dir, 'docs')]);
  assert.equal(report.status, 0, report.stderr);
  assert.match(report.stdout, /\| model \| retrieval \| image \|/);
  assert.match(report.stdout, /\| nystrom-4 \(here\) \| \d+\.\d \(4 steps, seed 1\) \| – \|/);
  assert.match(report.stdout, /\| Nyströmformer \(paper\) \| 79\.56 \| 41\.58 \|/);
  assert.match(report.stdout, /\| softmax \| 102 ms, 10 MB \| 205 ms, 20 MB \|/);
  const svg = readFileSync(join(dir, 'docs', 'lra-report.svg'), 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2 + 2 + 2, 'two training curves, two time and two memory series');
  assert.match(svg, /<title>nystrom-4: \d/);
  assert.match(readFileSync(join(dir, 'docs', 'lra-report.md'), 'utf8'), /!\[chart\]\(lra-report\.svg\)/);

  const empty = cli(['lra-report', join(dir, 'aan')]);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /no result\.json here or in its subfolders/);
}));

test('lra-report: seeds are averaged within one budget, budgets side by side, and the chart shows the longest', () => {
  const run = (attention: string, seed: number, test_accuracy: number, steps = 2500): Run => ({
    dir: `runs/${attention}-${seed}-${steps}`, curve: [[steps, test_accuracy]],
    result: { task: 'listops', attention, seed, steps, batch: 32, length: 512, lr: 1e-3, val_accuracy: test_accuracy, test_accuracy, ms_per_step: 600, peak_mb: 500 },
  });
  const runs = [
    run('nystrom-64', 1, 0.187), run('nystrom-64', 2, 0.163), run('nystrom-64', 3, 0.318),
    run('nystrom-64', 1, 0.33, 5000), run('nystrom-64', 2, 0.31, 5000),
    run('softmax', 1, 0.319), { ...run('softmax', 2, 0.2, 600), result: { ...run('softmax', 2, 0.2, 600).result, best_step: 450 } },
  ];
  const md = reportMarkdown(runs, []);
  // which weights the test scored: the best validation's (with its step) or, in older runs, the last
  assert.match(md, /\| 20\.0 \| best val, step 450 \|/);
  assert.match(md, /\| 31\.9 \| last \|/);
  assert.match(md, /\| nystrom-64 \(here\) \| mean 22\.3 over seeds 1, 2, 3: 18\.7, 16\.3, 31\.8 \(2500 steps\)<br>mean 32\.0 over seeds 1, 2: 33\.0, 31\.0 \(5000 steps\) \|/);
  assert.match(md, /\| softmax \(here\) \| 20\.0 \(600 steps, seed 2\)<br>31\.9 \(2500 steps, seed 1\) \|/);
  // how inputs were fed: padded to a fixed length, and ListOps without its closing brackets
  const fixed = run('nystrom-64', 4, 0.3);
  const fixedMd = reportMarkdown([{ ...fixed, result: { ...fixed.result, length: 2000, pad_to: 2048, drop_brackets: true } }], []);
  assert.match(fixedMd, /\| 32 \| 2000 \(padded to 2048, no \]\) \| 0\.001 \|/);
  // seeds fed differently are not averaged together
  const both = reportMarkdown([run('nystrom-64', 1, 0.2), { ...fixed, result: { ...fixed.result, pad_to: 512 } }], []);
  assert.match(both, /\| 20\.0 \(2500 steps, batches padded to their longest, seed 1\)<br>30\.0 \(2500 steps, padded to 512, seed 4\) \|/);
  // nor seeds on data of different generators; the generator is named where recorded
  const older = run('nystrom-64', 1, 0.2), newer = run('nystrom-64', 2, 0.4);
  const generators = reportMarkdown([older, { ...newer, result: { ...newer.result, data: 'generated', generator: 2 } }], []);
  assert.match(generators, /\| 20\.0 \(2500 steps, seed 1\)<br>40\.0 \(2500 steps, generator 2, seed 2\) \|/);
  assert.match(generators, /\| generated \(generator 2\) \| 40\.0 \|/);
  assert.match(md, /\| 32 \| 512 \| 0\.001 \|/);
  const svg = reportSvg(runs, []);
  assert.match(svg, /listops nystrom-64 \(2 seeds, 5000 steps\)/);
  assert.doesNotMatch(svg, /2500 steps/);
});

test("lra-report: runs at the paper's budget (its steps, length and batch) get their own row beside the paper's; PyTorch runs are named", () => {
  const run = (attention: string, seed: number, test_accuracy: number, budget: { steps: number; batch: number; length: number }, implementation?: string): Run => ({
    dir: `runs/${attention}-${seed}-${budget.steps}`, curve: [[budget.steps, test_accuracy]],
    result: { task: 'listops', attention, seed, ...budget, lr: 1e-4, val_accuracy: test_accuracy, test_accuracy, ms_per_step: 600, peak_mb: 500, ...(implementation && { implementation }) },
  });
  const paper = { steps: 5000, batch: 32, length: 2000 };
  const runs = [
    run('nystrom-64', 1, 0.3, { steps: 2500, batch: 32, length: 512 }), run('nystrom-64', 1, 0.36, paper), run('nystrom-64', 2, 0.38, paper),
    run('nystrom-64', 1, 0.25, { steps: 5000, batch: 32, length: 512 }), run('nystrom-64', 1, 0.35, paper, 'PyTorch'),
  ];
  assert.deepEqual(runs.map(isPaperBudget), [false, true, true, false, true]);
  const md = reportMarkdown(runs, []);
  const lines = md.split('\n');
  const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
  assert.match(md, /\| nystrom-64 \(here\) \| 30\.0 \(2500 steps, seed 1\)<br>25\.0 \(5000 steps, seed 1\) \|/);
  assert.match(md, /\| nystrom-64 \(here, paper budget\) \| mean 37\.0 over seeds 1, 2: 36\.0, 38\.0 \(5000 steps\) \|/);
  assert.match(md, /\| nystrom-64, PyTorch \(here, paper budget\) \| 35\.0 \(5000 steps, seed 1\) \|/);
  assert.ok(at('| nystrom-64 (here) |') < at('| nystrom-64 (here, paper budget)') && at('| nystrom-64, PyTorch (here, paper budget)') < at('| Standard (paper)'), md);
  assert.match(md, /\| listops \| nystrom-64 \| 1 \| paper \| 5000 \| 32 \| 2000 \|/);
  assert.match(md, /\| listops \| nystrom-64 \| 1 \| reduced \| 2500 \| 32 \| 512 \|/);
  // one cell, two budgets of equal steps: length and batch tell them apart
  const cell = reportMarkdown([run('softmax', 1, 0.2, { steps: 5000, batch: 32, length: 512 }), run('softmax', 1, 0.3, { steps: 5000, batch: 16, length: 1024 })], []);
  assert.match(cell, /20\.0 \(5000 steps × 32, length 512, seed 1\)<br>30\.0 \(5000 steps × 16, length 1024, seed 1\)/);
});

test('CLI: lra --resume continues a killed run exactly from its last checkpoint', withTempDir('nystromformer-lra-data-', (dir) => {
  const out = join(dir, 'run');
  const args = ['lra', '--task', 'listops', '--attention', 'nystrom-4', '--length', '64', '--train-size', '64', '--eval-size', '16',
    '--steps', '4', '--warmup', '1', '--batch-size', '8', '--eval-every', '2', '--checkpoint-every', '2', '--out', out, '--json'];
  const whole = cli(args);
  assert.equal(whole.status, 0, whole.stderr);
  const first = JSON.parse(whole.stdout);
  assert.deepEqual(readdirSync(join(out, 'checkpoints')).sort(), ['latest', 'step-2', 'step-4']);
  // as if killed between the checkpoints at steps 2 and 4
  rmSync(join(out, 'checkpoints', 'step-4'), { recursive: true });
  writeFileSync(join(out, 'checkpoints', 'latest'), 'step-2\n');
  const resumed = cli([...args, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const second = JSON.parse(resumed.stdout);
  assert.equal(second.steps, 4);
  assert.equal(second.test_loss, first.test_loss);
  assert.equal(second.test_accuracy, first.test_accuracy);
  assert.match(readFileSync(join(out, 'train.jsonl'), 'utf8'), /"type":"resume","step":2/);
  const fresh = cli(['lra', ...args.slice(1).map((a) => (a === out ? join(dir, 'none') : a)), '--resume']);
  assert.equal(fresh.status, 1);
  assert.match(fresh.stderr, /--resume, but .*none has no checkpoint/);
}));

test('CLI: lra-data writes generated Pathfinder in the official layout; lra trains on it, or on images generated in memory', withTempDir('nystromformer-lra-data-', (dir) => {
  const data = join(dir, 'pathfinder32');
  const written = cli(['lra-data', '--task', 'pathfinder', '--out', data, '--train-size', '40', '--eval-size', '5']);
  assert.equal(written.status, 0, written.stderr);
  assert.match(readFileSync(join(data, 'curv_baseline', 'metadata', '0.npy'), 'utf8'), /^imgs\/0 sample_0\.png 0 [01] /);
  const common = ['--task', 'pathfinder', '--steps', '2', '--warmup', '1', '--batch-size', '8', '--attention', 'nystrom-8', '--json'];
  const fromFiles = cli(['lra', ...common, '--data', data, '--out', join(dir, 'a')]);
  assert.equal(fromFiles.status, 0, fromFiles.stderr);
  assert.equal(JSON.parse(fromFiles.stdout).train_examples, 40, '80% of the 50 images train');
  const generated = cli(['lra', ...common, '--train-size', '16', '--eval-size', '8', '--out', join(dir, 'b')]);
  assert.equal(generated.status, 0, generated.stderr);
  assert.equal(JSON.parse(generated.stdout).data, 'generated');
  const text = cli(['lra-data', '--task', 'text', '--out', join(dir, 'c')]);
  assert.equal(text.status, 1);
  assert.match(text.stderr, /task 'text' is read from files, not generated/);
}));

test('generated ListOps is written to the run folder once and read back as generated, until the settings change', withTempDir('nf-listops-', async (dir) => {
  const { LRA_TASKS } = await import('../src/data/index.js');
  const settings = { length: 64, trainSize: 40, evalSize: 8, seed: 3, out: dir };
  const generated = await LRA_TASKS.listops.load(settings);
  const stamp = join(dir, 'data', 'generated.json');
  assert.deepEqual(JSON.parse(readFileSync(stamp, 'utf8')), { length: 64, train: 40, eval: 8, seed: 3, generator: LISTOPS_GENERATOR });
  // a marker in the file proves the second load reads it rather than generating again
  const trainFile = join(dir, 'data', 'basic_train.tsv');
  const read = await LRA_TASKS.listops.load(settings);
  assert.deepEqual(read, generated, 'the files hold exactly what was generated (a resumed run sees the same data)');
  writeFileSync(trainFile, readFileSync(trainFile, 'utf8').replace(/\t(\d)\n/, (_, d) => `\t${(Number(d) + 1) % 10}\n`));
  assert.notDeepEqual((await LRA_TASKS.listops.load(settings)).train, generated.train);
  const other = await LRA_TASKS.listops.load({ ...settings, seed: 4 });
  assert.notDeepEqual(other.train, generated.train);
  assert.equal(JSON.parse(readFileSync(stamp, 'utf8')).seed, 4, 'other settings generate again and restamp');
  // data an earlier generator made (its stamp names none, or another): kept by a resumed run, else made again
  const fresh = await LRA_TASKS.listops.load(settings);
  writeFileSync(stamp, JSON.stringify({ length: 64, train: 40, eval: 8, seed: 3 }) + '\n');
  writeFileSync(trainFile, readFileSync(trainFile, 'utf8').replace(/\t(\d)\n/, (_, d) => `\t${(Number(d) + 1) % 10}\n`));
  const resumed = await LRA_TASKS.listops.load({ ...settings, resume: true });
  assert.notDeepEqual(resumed.train, fresh.train, 'a resumed run reads its folder as it is');
  assert.equal(listOpsGeneratorOf(dir), 1, 'a stamp that names no generator: the first one (what result.json records)');
  assert.deepEqual((await LRA_TASKS.listops.load(settings)).train, fresh.train, 'a new run generates again');
  assert.equal(JSON.parse(readFileSync(stamp, 'utf8')).generator, LISTOPS_GENERATOR);
  assert.equal(listOpsGeneratorOf(dir), LISTOPS_GENERATOR);
  assert.equal(listOpsGeneratorOf(join(dir, 'nowhere')), undefined);
}));
