/** `nystromformer plot`: run logs read back (resumes, restarts, cut-off lines) and drawn as one SVG. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRunLog } from '../src/cli/run-log.js';
import { smooth } from '../src/cli/plot-command.js';
import { withTempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = (args: string[], cwd = repo) => spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), ...args], { encoding: 'utf8', timeout: 120_000, cwd });

const step = (s: number, loss: number) => JSON.stringify({ type: 'step', step: s, epoch: 0, loss, lr: 1e-3 * (1 - s / 20), grad_norm: 1, tokens: 100, seconds: 0.01 });
const evaluation = (s: number, accuracy: number) => JSON.stringify({ type: 'eval', step: s, loss: 1 - accuracy, accuracy, f1: accuracy / 2 });

/**
 * Steps 1–6 with evaluations at 3 and 6, killed in the middle of a line; resumed from the checkpoint
 * at step 4, steps 5–8 again (other losses) with evaluations at 6 and 8, and a last line cut short.
 */
const RESUMED = [
  ...[1, 2, 3].map((s) => step(s, 2 - s / 10)), evaluation(3, 0.5), ...[4, 5, 6].map((s) => step(s, 2 - s / 10)), evaluation(6, 0.6), '{"type":"step","st',
  JSON.stringify({ type: 'resume', step: 4, from: 'checkpoints/step-4' }),
  ...[5, 6].map((s) => step(s, 1 - s / 10)), evaluation(6, 0.7), ...[7, 8].map((s) => step(s, 1 - s / 10)), evaluation(8, 0.8), '{"type":"eval","step":8,"lo',
].join('\n');

/** Tags opened and closed in order, attributes quoted: enough to tell the SVG is well-formed. */
function assertWellFormed(svg: string): void {
  const open: string[] = [];
  for (const [tag, close, name, attributes, selfClosing] of svg.matchAll(/<(\/?)([a-z]+)([^>]*?)(\/?)>/g)) {
    assert.match(attributes, /^(\s+[a-zA-Z0-9-]+="[^"<>]*")*\s*$/, `attributes of ${tag}`);
    if (close) assert.equal(open.pop(), name, `${tag} closes what was opened`);
    else if (!selfClosing) open.push(name);
  }
  assert.deepEqual(open, [], 'every tag is closed');
  assert.doesNotMatch(svg.replace(/<[^>]*>/g, ''), /[<>]|&(?!amp;|lt;|gt;)/, 'text is escaped');
}

/** Each polyline's stroke colour and number of points, in document order. */
const polylines = (svg: string) => [...svg.matchAll(/<polyline [^>]*stroke="([^"]+)"[^>]*points="([^"]*)"/g)].map((m) => ({ color: m[1], points: m[2].split(' ').length }));

test('a log is read as the run last logged each step: resumes and restarts replace what came after, cut-off lines are skipped', withTempDir('nystromformer-plot-', (dir) => {
  const path = join(dir, 'train.jsonl');
  writeFileSync(path, RESUMED);
  const log = readRunLog(path);
  assert.deepEqual(log.steps.map((s) => s.step), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(log.steps.map((s) => +s.loss.toFixed(2)), [1.9, 1.8, 1.7, 1.6, 0.5, 0.4, 0.3, 0.2], 'steps 5 and 6 as the resumed run logged them');
  assert.deepEqual(log.evals.map((e) => [e.step, e.accuracy]), [[3, 0.5], [6, 0.7], [8, 0.8]]);
  assert.deepEqual(log.warnings, []);

  // the same folder trained again from scratch, with a damaged line in the middle
  writeFileSync(path, [...RESUMED.split('\n').slice(0, -1), step(1, 3), 'not json', step(2, 2.9), evaluation(2, 0.1)].join('\n'));
  const again = readRunLog(path);
  assert.deepEqual(again.steps.map((s) => [s.step, s.loss]), [[1, 3], [2, 2.9]]);
  assert.deepEqual(again.evals.map((e) => e.step), [2]);
  assert.deepEqual(again.warnings, [`${path}:18: not a JSON line, skipped`]);
}));

test('smoothing: a debiased moving average (the first value is kept, a constant stays constant)', () => {
  assert.deepEqual(smooth([4, 4, 4], 10).map((v) => +v.toFixed(12)), [4, 4, 4]);
  const s = smooth([1, 0, 0, 0], 2);
  assert.equal(s[0], 1);
  assert.ok(s[1] > 0 && s[1] < 1 && s[3] < s[2] && s[2] < s[1]);
  assert.deepEqual(smooth([1, 2, 3], 1), [1, 2, 3], 'a span of one step is no smoothing');
});

test('plot draws loss, metric and learning rate per run, with a legend naming them', withTempDir('nystromformer-plot-', (dir) => {
  const resumed = join(dir, 'resumed');
  mkdirSync(resumed);
  writeFileSync(join(resumed, 'train.jsonl'), RESUMED);
  // a real run, as small as train allows
  const real = join(dir, 'real');
  const train = cli(['train', '--steps', '6', '--eval-every', '3', '--train-size', '32', '--eval-size', '16', '--batch-size', '8', '--out', real]);
  assert.equal(train.status, 0, train.stderr);

  const r = cli(['plot', resumed, real]);
  assert.equal(r.status, 0, r.stderr);
  const out = join(resumed, 'curves.svg');
  assert.equal(r.stdout.trim(), `wrote ${out} (2 runs)`);
  const svg = readFileSync(out, 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assertWellFormed(svg);
  // loss: a faint raw line and its moving average per run; the metric; the learning rate
  const [blue, red] = ['#4477aa', '#ee6677'];
  assert.deepEqual(polylines(svg), [
    { color: blue, points: 8 }, { color: blue, points: 8 }, { color: red, points: 6 }, { color: red, points: 6 },
    { color: blue, points: 3 }, { color: red, points: 2 },
    { color: blue, points: 8 }, { color: red, points: 6 },
  ]);
  assert.equal((svg.match(/stroke-opacity="0.3"/g) ?? []).length, 2, 'one faint raw loss line per run');
  for (const title of ['Training loss', 'Evaluation accuracy', 'Learning rate', 'Runs']) assert.ok(svg.includes(`>${title}`), title);
  assert.ok(svg.includes(`>${resumed} (8 steps; accuracy 0.8 at the end, best 0.8 at step 8)</text>`), 'the legend names each run');
  assert.ok(svg.includes(`>${real} (6 steps; accuracy `));

  // --metric, --out in a new folder, and a train.jsonl named directly
  const f1 = cli(['plot', join(resumed, 'train.jsonl'), '--metric', 'f1', '--out', join(dir, 'charts', 'f1.svg')]);
  assert.equal(f1.status, 0, f1.stderr);
  const f1Svg = readFileSync(join(dir, 'charts', 'f1.svg'), 'utf8');
  assert.ok(f1Svg.includes('>Evaluation f1</text>'));
  assert.ok(f1Svg.includes(`>${resumed} (8 steps; f1 0.4 at the end, best 0.4 at step 8)</text>`));
}));

test('plot: a folder of runs, evaluation-only logs, and errors that name the file', withTempDir('nystromformer-plot-', (dir) => {
  const runs = join(dir, 'runs');
  for (const [name, lines] of [['a', [evaluation(5, 0.5), evaluation(10, 0.6)]], ['b', [step(1, 1), step(2, 0.9), evaluation(2, 0.4)]]] as const) {
    mkdirSync(join(runs, name), { recursive: true });
    writeFileSync(join(runs, name, 'train.jsonl'), lines.join('\n') + '\n');
  }
  mkdirSync(join(runs, 'data')); // not a run: skipped
  const ok = cli(['plot', runs]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /^plot: eval lines only, so no loss or learning-rate curve, in \S*runs\/a\/train\.jsonl$/m);
  const svg = readFileSync(join(runs, 'curves.svg'), 'utf8');
  assert.deepEqual(polylines(svg).map((p) => p.points), [2, 2, 2, 1, 2], 'b: loss twice; a and b: accuracy; b: learning rate');
  assert.ok(svg.includes(`>${join(runs, 'a')} (10 steps; accuracy 0.6`));

  const fail = (args: string[], message: RegExp) => {
    const r = cli(['plot', ...args]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, message);
  };
  fail([join(runs, 'data')], /^nystromformer: plot: .*runs\/data has no train\.jsonl, nor has any folder in it/);
  fail([join(dir, 'nowhere')], /plot: .*nowhere does not exist/);
  writeFileSync(join(runs, 'data', 'train.jsonl'), `${JSON.stringify({ type: 'resume', step: 0 })}\n`);
  fail([join(runs, 'data')], /plot: .*runs\/data\/train\.jsonl has no step or eval lines/);
  fail([join(runs, 'b'), '--metric', 'mcc'], /plot: no evaluation in .*runs\/b\/train\.jsonl has a value for 'mcc' \(--metric can be loss, accuracy, f1\)/);
  assert.ok(!existsSync(join(runs, 'b', 'curves.svg')), 'nothing written on an error');
}));

test('plot keeps long runs small: at most about 2000 points per series', withTempDir('nystromformer-plot-', (dir) => {
  const lines = Array.from({ length: 9000 }, (_, i) => step(i + 1, 5 / (i + 1)));
  writeFileSync(join(dir, 'train.jsonl'), [...lines, evaluation(9000, 0.9)].join('\n') + '\n');
  const r = cli(['plot', dir]);
  assert.equal(r.status, 0, r.stderr);
  const counts = polylines(readFileSync(join(dir, 'curves.svg'), 'utf8')).map((p) => p.points);
  assert.deepEqual(counts, [1801, 1801, 1, 1801], 'every 5th step of 9000, and the last');
}));
