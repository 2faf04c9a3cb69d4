/** Run folders (issue 17): uncreatable folders fail at once, a finished run is never overwritten silently, stale temp files go, --resume needs only --out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { snapshotFiles, withTempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
// A short timeout: a command that hangs fails the test instead of stalling it.
const cli = (args: string[], timeout = 120_000) => spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), ...args], { encoding: 'utf8', timeout });

/** A tiny synthetic run, under a second. */
const TINY = ['--steps', '2', '--train-size', '32', '--eval-size', '8', '--batch-size', '8', '--eval-every', '1', '--checkpoint-every', '1', '--json'];
const TINY_LRA = ['--task', 'listops', '--attention', 'nystrom-4', '--length', '32', '--train-size', '16', '--eval-size', '8', '--steps', '2', '--warmup', '1',
  '--batch-size', '8', '--json'];

test('CLI: an output folder that cannot be created fails at once, naming it (train, lra, lra-data, export, lra-report)', withTempDir('nystromformer-run-', (dir) => {
  const bad = '/proc/nonexistent/x';
  const model = join(repo, 'test/fixtures/models/seqcls-single');
  writeFileSync(join(dir, 'result.json'), JSON.stringify({ task: 'listops', attention: 'softmax', steps: 1, batch: 1, length: 8, lr: 1, test_accuracy: 0.5, ms_per_step: 1 }));
  const commands = [
    ['train', '--out', bad, ...TINY],
    ['lra', ...TINY_LRA, '--out', bad],
    ['lra-data', '--task', 'listops', '--train-size', '4', '--eval-size', '2', '--length', '32', '--out', bad],
    ['lra-data', '--task', 'pathfinder', '--train-size', '4', '--eval-size', '2', '--out', bad],
    ['export', '--model', model, '--out', bad],
    ['lra-report', dir, '--out', bad],
  ];
  for (const args of commands) {
    const started = Date.now();
    const r = cli(args, 10_000);
    assert.equal(r.status, 1, `${args[0]}: exit ${r.status} (${r.signal ?? 'no signal'}) after ${Date.now() - started} ms; ${r.stderr}`);
    assert.match(r.stderr, /\/proc\/nonexistent/, args[0]);
  }
}));

test('CLI: train and lra refuse a folder that holds a run, naming --resume and --overwrite; nothing of it changes; --overwrite replaces it', withTempDir('nystromformer-run-', (dir) => {
  for (const [command, args] of [['train', TINY], ['lra', TINY_LRA]] as const) {
    const out = join(dir, command);
    const first = cli([command, '--out', out, ...args]);
    assert.equal(first.status, 0, first.stderr);
    const before = snapshotFiles(out);
    const again = cli([command, '--out', out, ...args]);
    assert.equal(again.status, 1, again.stderr);
    assert.match(again.stderr, new RegExp(`${out}.*already holds a run.*--resume.*--overwrite`));
    assert.deepEqual(snapshotFiles(out), before, `${command}: the first run's files are untouched`);
    const replaced = cli([command, '--out', out, ...args, '--overwrite']);
    assert.equal(replaced.status, 0, replaced.stderr);
    const log = readFileSync(join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(log.filter((r) => r.type === 'step').length, 2, `${command}: one run in train.jsonl after --overwrite`);
  }
}));

test('opening a run folder removes the temp files of dead processes and keeps those of live ones', withTempDir('nystromformer-run-', (dir) => {
  const out = join(dir, 'run');
  const first = cli(['train', '--out', out, ...TINY]);
  assert.equal(first.status, 0, first.stderr);
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const live = process.pid;
  const plant = (path: string, folder = false) => {
    if (folder) {
      mkdirSync(path);
      writeFileSync(join(path, 'weights.safetensors'), 'partial');
    } else writeFileSync(path, 'partial');
    return path;
  };
  const stale = [
    plant(join(out, `.metrics.json.${dead}.k3j2.tmp`)),
    plant(join(out, 'best', `.model.safetensors.${dead}.a1b2c3.tmp`)),
    plant(join(out, 'checkpoints', `.latest.${dead}.zz9.tmp`)),
    plant(join(out, 'checkpoints', `.step-7.${dead}.tmp`), true),
  ];
  const kept = [
    plant(join(out, 'best', `.model.safetensors.${live}.q1w2.tmp`)),
    plant(join(out, 'checkpoints', `.step-9.${live}.tmp`), true),
  ];
  const resumed = cli(['train', '--out', out, ...TINY, '--steps', '3', '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  for (const p of stale) assert.ok(!existsSync(p), `${p} (dead pid ${dead}) is removed`);
  for (const p of kept) assert.ok(existsSync(p), `${p} (live pid ${live}) is kept`);
}));

test('CLI: --resume with only --out takes every option from the run folder and continues exactly', withTempDir('nystromformer-run-', (dir) => {
  const flags = ['--lr', '5e-4', '--batch-size', '8', '--accumulate', '2', '--steps', '6', '--checkpoint-every', '3', '--eval-every', '3',
    '--train-size', '64', '--eval-size', '8', '--seed', '7', '--schedule', 'cosine', '--json'];
  const [whole, cut] = [join(dir, 'whole'), join(dir, 'cut')];
  const full = cli(['train', '--out', whole, ...flags]);
  assert.equal(full.status, 0, full.stderr);
  // as if killed right after the checkpoint at step 3
  const steps = (out: string) => readFileSync(join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'step');
  cpSync(whole, cut, { recursive: true });
  rmSync(join(cut, 'checkpoints', 'step-6'), { recursive: true });
  rmSync(join(cut, 'metrics.json'));
  writeFileSync(join(cut, 'checkpoints', 'latest'), 'step-3\n');
  writeFileSync(join(cut, 'train.jsonl'), readFileSync(join(whole, 'train.jsonl'), 'utf8').split('\n').filter((l) => l && JSON.parse(l).step <= 3).join('\n') + '\n');
  const resumed = cli(['train', '--out', cut, '--resume'], 60_000);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(steps(cut).map((r) => [r.step, r.loss, r.lr]), steps(whole).map((r) => [r.step, r.loss, r.lr]));
  // a flag that changes the run's math is refused on resume, naming it and the stored value
  rmSync(join(cut, 'checkpoints', 'step-6'), { recursive: true });
  writeFileSync(join(cut, 'checkpoints', 'latest'), 'step-3\n');
  const changed = cli(['train', '--out', cut, '--resume', '--lr', '1e-3'], 60_000);
  assert.equal(changed.status, 1, changed.stderr);
  assert.match(changed.stderr, /--lr 0\.001 differs from this run's 0\.0005/);
}));
