/**
 * Evaluation metrics for classification and regression, and the GLUE metric of each task
 * (names as Hugging Face's `glue` metric reports them: accuracy, f1, matthews_correlation,
 * pearson, spearmanr).
 *
 * Binary metrics count with the positive class 1 (f1: `positive`):
 *   tp = #(pred = 1, gold = 1), fp = #(pred = 1, gold = 0), fn = #(pred = 0, gold = 1), tn = #(0, 0)
 */
import { GLUE_TASKS, glueTaskName, type GlueMetricName } from '../data/glue.js';

function checkPair(metric: string, a: readonly number[], b: readonly number[], names = ['pred', 'gold']): void {
  if (a.length !== b.length) {
    throw new Error(`${metric}: ${names[0]} has ${a.length} values but ${names[1]} has ${b.length}`);
  }
  if (a.length === 0) throw new Error(`${metric}: empty input`);
}

/** Fraction of positions where pred equals gold. */
export function accuracy(pred: readonly number[], gold: readonly number[]): number {
  checkPair('accuracy', pred, gold);
  let hit = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === gold[i]) hit++;
  return hit / pred.length;
}

/** Binary F1 of the class `positive`: 2·tp / (2·tp + fp + fn); 0 when there is no positive at all. */
export function f1(pred: readonly number[], gold: readonly number[], positive = 1): number {
  checkPair('f1', pred, gold);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] === positive;
    const g = gold[i] === positive;
    if (p && g) tp++;
    else if (p) fp++;
    else if (g) fn++;
  }
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? 0 : (2 * tp) / denom;
}

/**
 * Matthews correlation of binary 0/1 labels:
 *   (tp·tn − fp·fn) / √((tp+fp)(tp+fn)(tn+fp)(tn+fn)),  0 when a factor of the denominator is 0.
 */
export function matthewsCorrelation(pred: readonly number[], gold: readonly number[]): number {
  checkPair('matthews_correlation', pred, gold);
  let tp = 0;
  let tn = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i];
    const g = gold[i];
    if ((p !== 0 && p !== 1) || (g !== 0 && g !== 1)) {
      throw new Error(`matthews_correlation: labels must be 0 or 1, got pred ${p}, gold ${g} at index ${i}`);
    }
    if (p === 1 && g === 1) tp++;
    else if (p === 0 && g === 0) tn++;
    else if (p === 1) fp++;
    else fn++;
  }
  // Products in floating point: counts in the millions would overflow 2^53 as integers anyway.
  const denom = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return denom === 0 ? 0 : (tp * tn - fp * fn) / denom;
}

/** Pearson correlation Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²); NaN when x or y is constant (as SciPy). */
export function pearson(x: readonly number[], y: readonly number[]): number {
  checkPair('pearson', x, y, ['x', 'y']);
  return pearsonUnchecked(x, y);
}

function pearsonUnchecked(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/** 1-based ranks; tied values share the mean of the ranks they span ([10, 20, 20, 30] → [1, 2.5, 2.5, 4]). */
export function ranks(x: readonly number[]): number[] {
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Array<number>(x.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && x[order[end]] === x[order[start]]) end++;
    const mean = (start + 1 + end) / 2; // mean of ranks start+1 … end
    for (let k = start; k < end; k++) r[order[k]] = mean;
    start = end;
  }
  return r;
}

/** Spearman rank correlation: Pearson of the average ranks (ties handled as SciPy's spearmanr). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  checkPair('spearman', x, y, ['x', 'y']);
  return pearsonUnchecked(ranks(x), ranks(y));
}

const METRIC: { [K in GlueMetricName]: (pred: readonly number[], gold: readonly number[]) => number } = {
  accuracy,
  f1: (p, g) => f1(p, g, 1),
  matthews_correlation: matthewsCorrelation,
  pearson,
  spearmanr: spearman,
};

/**
 * The GLUE metrics of a task ('cola', 'SST-2', 'sts-b', …): CoLA matthews_correlation;
 * SST-2, QNLI, RTE, WNLI, MNLI accuracy; MRPC, QQP accuracy and f1; STS-B pearson and spearmanr.
 */
export function glueMetrics(task: string, pred: readonly number[], gold: readonly number[]): Record<string, number> {
  const spec = GLUE_TASKS[glueTaskName(task)];
  const out: Record<string, number> = {};
  for (const name of spec.metrics) out[name] = METRIC[name](pred, gold);
  return out;
}
