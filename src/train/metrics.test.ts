/** Metrics against values worked out by hand (the arithmetic is in the comments). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, f1, glueMetrics, matthewsCorrelation, pearson, ranks, spearman } from './metrics.js';

const close = (actual: number, expected: number, tol = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);

// pred 1 1 0 0 1 0 1 0
// gold 1 0 0 0 1 1 1 0   → tp = 3 (0, 4, 6), fp = 1 (1), fn = 1 (5), tn = 3 (2, 3, 7)
const pred = [1, 1, 0, 0, 1, 0, 1, 0];
const gold = [1, 0, 0, 0, 1, 1, 1, 0];

test('accuracy: 6 of 8 agree', () => {
  assert.equal(accuracy(pred, gold), 0.75);
  assert.equal(accuracy([2, 1, 0], [2, 1, 0]), 1);
});

test('f1: 2·3 / (2·3 + 1 + 1) = 0.75; of class 0: 2·3 / 8 as well; 0 with no positives', () => {
  assert.equal(f1(pred, gold), 0.75);
  assert.equal(f1(pred, gold, 0), 0.75);
  // tp = 1, fp = 2, fn = 0 → 2 / 4
  assert.equal(f1([1, 1, 1, 0], [1, 0, 0, 0]), 0.5);
  assert.equal(f1([0, 0], [0, 0]), 0);
});

test('matthews: (3·3 − 1·1) / √(4·4·4·4) = 8 / 16; 0 when undefined', () => {
  assert.equal(matthewsCorrelation(pred, gold), 0.5);
  // tp = 2, tn = 1, fp = 1, fn = 0: (2 − 0) / √(3·2·2·1) = 2 / √12
  close(matthewsCorrelation([1, 1, 1, 0], [1, 1, 0, 0]), 2 / Math.sqrt(12));
  assert.equal(matthewsCorrelation([1, 0, 1, 0], [0, 1, 0, 1]), -1);
  assert.equal(matthewsCorrelation([1, 1, 1], [1, 0, 1]), 0); // pred constant: tn + fn = 0
  assert.throws(() => matthewsCorrelation([2], [1]), /matthews_correlation: labels must be 0 or 1/);
});

test('pearson: x = 1..4, y = 2 4 5 9 → Σdxdy = 11, Σdx² = 5, Σdy² = 26, r = 11/√130', () => {
  close(pearson([1, 2, 3, 4], [2, 4, 5, 9]), 11 / Math.sqrt(130));
  close(pearson([1, 2, 3], [-2, -4, -6]), -1);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
});

test('spearman with ties: ranks [1, 2.5, 2.5, 4] vs [1, 3, 2, 4] → 4.5 / √(4.5·5) = √0.9', () => {
  assert.deepEqual(ranks([10, 20, 20, 30]), [1, 2.5, 2.5, 4]);
  assert.deepEqual(ranks([3, 1, 3, 3]), [3, 1, 3, 3]); // the three 3s share ranks 2, 3, 4
  close(spearman([1, 2, 2, 3], [1, 3, 2, 4]), Math.sqrt(0.9));
  close(spearman([1, 2, 3, 4], [1, 8, 27, 64]), 1); // monotone, not linear
});

test('length mismatch and empty input name the metric', () => {
  assert.throws(() => accuracy([1], [1, 0]), /^Error: accuracy: pred has 1 values but gold has 2/);
  assert.throws(() => f1([], []), /f1: empty input/);
  assert.throws(() => matthewsCorrelation([1], []), /matthews_correlation:/);
  assert.throws(() => pearson([1, 2], [1]), /pearson: x has 2 values but y has 1/);
  assert.throws(() => spearman([], []), /spearman: empty input/);
});

test('glueMetrics: the metrics of each task, by any spelling of its name', () => {
  assert.deepEqual(glueMetrics('CoLA', pred, gold), { matthews_correlation: 0.5 });
  for (const t of ['sst2', 'SST-2', 'qnli', 'rte', 'wnli', 'mnli']) assert.deepEqual(glueMetrics(t, pred, gold), { accuracy: 0.75 });
  assert.deepEqual(glueMetrics('MRPC', pred, gold), { accuracy: 0.75, f1: 0.75 });
  assert.deepEqual(Object.keys(glueMetrics('qqp', pred, gold)), ['accuracy', 'f1']);
  const s = glueMetrics('STS-B', [1, 2, 2, 3], [1, 3, 2, 4]);
  assert.deepEqual(Object.keys(s), ['pearson', 'spearmanr']);
  close(s.spearmanr, Math.sqrt(0.9));
  assert.throws(() => glueMetrics('squad', pred, gold), /unknown GLUE task 'squad'/);
});
