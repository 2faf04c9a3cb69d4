/** `nystromformer eval` on an LRA run folder: the accuracy of the run's model on the test split of official-layout data. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readListOps } from '../src/data/index.js';
import { loadLraRun } from '../src/models/lra/run.js';
import { evaluateClassifier } from '../src/train/index.js';
import { withTempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = (args: string[]) => spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), ...args], { encoding: 'utf8', timeout: 180_000 });

test('CLI: eval --task listops on an lra run gives the accuracy evaluateClassifier gives on the same test file', withTempDir('nystromformer-lra-eval-', async (dir) => {
  const run = join(dir, 'run');
  const trained = cli(['lra', '--task', 'listops', '--attention', 'nystrom-8', '--length', '64', '--train-size', '32', '--eval-size', '16',
    '--steps', '3', '--batch-size', '8', '--out', run, '--json']);
  assert.equal(trained.status, 0, trained.stderr);
  const data = join(dir, 'listops');
  const written = cli(['lra-data', '--task', 'listops', '--out', data, '--length', '64', '--train-size', '8', '--eval-size', '24', '--seed', '7']);
  assert.equal(written.status, 0, written.stderr);

  const evaluated = cli(['eval', '--model', run, '--task', 'listops', '--data', data, '--json']);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  const r = JSON.parse(evaluated.stdout);
  assert.equal(r.task, 'listops');
  assert.equal(r.attention, 'nystrom-8');
  assert.equal(r.examples, 24);

  const model = loadLraRun(run);
  const examples = (await readListOps(join(data, 'basic_test.tsv'))).map((e) => ({ ...e, inputIds: e.inputIds.slice(0, 64) }));
  const expected = await evaluateClassifier(model, examples, 16, 0, false);
  model.dispose();
  assert.equal(r.accuracy, expected.accuracy);
  assert.ok(Math.abs(r.loss - expected.loss) < 1e-5, `loss ${r.loss} vs ${expected.loss}`);

  const human = cli(['eval', '--model', run, '--task', 'listops', '--data', data]);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /^LRA listops, nystrom-8 \(.*\), 24 test examples: accuracy \d+\.\d\d%/);

  const missing = cli(['eval', '--model', run, '--task', 'listops', '--data', join(dir, 'nowhere')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nowhere/);
  const notARun = cli(['eval', '--model', data, '--task', 'listops', '--data', data]);
  assert.equal(notARun.status, 1);
  assert.match(notARun.stderr, /config\.json: no such file \(not an LRA run folder/);
  const tooLong = cli(['eval', '--model', run, '--task', 'listops', '--data', data, '--seq-len', '65']);
  assert.equal(tooLong.status, 1);
  assert.match(tooLong.stderr, /--seq-len 65 is longer than the run's maxLength 64/);
}));
