/** `nystromformer eval` on an LRA run folder: the accuracy of the run's model on the test split of official-layout data. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LISTOPS_VOCAB, readListOps } from '../src/data/index.js';
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

  // a run trained without closing brackets (--drop-brackets) is evaluated on its test data without them too
  const bare = join(dir, 'bare');
  const bareTrained = cli(['lra', '--task', 'listops', '--attention', 'nystrom-8', '--length', '64', '--train-size', '32', '--eval-size', '16',
    '--steps', '3', '--batch-size', '8', '--drop-brackets', '--data', data, '--out', bare, '--json']);
  assert.equal(bareTrained.status, 0, bareTrained.stderr);
  const bareEvaluated = JSON.parse(cli(['eval', '--model', bare, '--task', 'listops', '--data', data, '--json']).stdout);
  const bareModel = loadLraRun(bare);
  const close = LISTOPS_VOCAB[']'];
  const bareExamples = examples.map((e) => ({ ...e, inputIds: e.inputIds.filter((id) => id !== close) }));
  assert.ok(examples.some((e) => e.inputIds.includes(close)), 'the test data has brackets to drop');
  const bareExpected = await evaluateClassifier(bareModel, bareExamples, 16, 0, false);
  bareModel.dispose();
  assert.ok(Math.abs(bareEvaluated.loss - bareExpected.loss) < 1e-5, `loss without brackets ${bareEvaluated.loss} vs ${bareExpected.loss}`);
  const wrongTask = cli(['lra', '--task', 'image', '--drop-brackets', '--data', data, '--out', join(dir, 'x')]);
  assert.equal(wrongTask.status, 1);
  assert.match(wrongTask.stderr, /--drop-brackets is for ListOps, not --task image/);

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
