/** The attentions LRA compares Nyström against: Linformer and Performer, against float64 references. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../src/index.js';
import * as R from './reference.js';
import { assertCloseScaled, gradCheck, Rng, toTensor } from './check.js';
import type { NDArray } from './reference.js';

const rng = new Rng(2718);
const scaleRows = (x: NDArray, mask: NDArray) => { // (B,H,n,d) rows times mask (B,n)
  const [B, , n] = x.shape;
  return R.mul(x, R.reshape(mask, [B, 1, n, 1]));
};
const softmaxRef = (q: NDArray, k: NDArray, v: NDArray) =>
  R.matmul(R.softmax(R.mulScalar(R.matmul(q, k, { transB: true }), 1 / Math.sqrt(q.shape[3]))), v);

function linformerRef(q: NDArray, k: NDArray, v: NDArray, e: NDArray, f: NDArray, mask?: NDArray): NDArray {
  const [kk, vv] = mask ? [scaleRows(k, mask), scaleRows(v, mask)] : [k, v];
  return softmaxRef(q, R.matmul(e, kk), R.matmul(f, vv));
}

function performerRef(q: NDArray, k: NDArray, v: NDArray, w: NDArray, mask?: NDArray): NDArray {
  const d = q.shape[3];
  const m = w.shape[0];
  const phi = (x: NDArray) => {
    const xs = R.mulScalar(x, d ** -0.25);
    const half = R.mulScalar(R.sum(R.mul(xs, xs), -1, true), 0.5);
    return R.mulScalar(R.map(R.sub(R.matmul(xs, w, { transB: true }), half), Math.exp), 1 / Math.sqrt(m));
  };
  const phiK = mask ? scaleRows(phi(k), mask) : phi(k);
  const num = R.matmul(phi(q), R.matmul(phiK, v, { transA: true }));
  const den = R.matmul(phi(q), R.sum(R.transpose(phiK), -1, true));
  return R.binary('div', num, den);
}

const mask = R.nd([2, 6], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);

test('Linformer: forward and gradients in q, k, v, E, F, with padding', async () => {
  const [q, k, v] = [0, 1, 2].map(() => rng.array([2, 2, 6, 4]));
  const [e, f] = [rng.array([3, 6]), rng.array([3, 6])];
  await gradCheck('linformer', (q, k, v, e, f, m) => E.linformerAttention(q, k, v, { projectKeys: e, projectValues: f, mask: m }),
    (q, k, v, e, f, m) => linformerRef(q, k, v, e, f, m), [q, k, v, e, f, mask], { constant: [5] });
});

test('Linformer with E = F = I is exact attention', () => {
  E.tidy(() => {
    const [q, k, v] = [0, 1, 2].map(() => toTensor(rng.array([1, 2, 5, 4])));
    const eye = E.tensor(Float32Array.from({ length: 25 }, (_, i) => (i % 6 === 0 ? 1 : 0)), [5, 5]);
    const a = E.linformerAttention(q, k, v, { projectKeys: eye, projectValues: eye }).toArray();
    const b = E.softmaxAttention(q, k, v).toArray();
    assertCloseScaled(a, b, 1e-6, 'identity projections');
    assert.throws(() => E.linformerAttention(q, k, v, { projectKeys: E.ones([3, 4]), projectValues: eye }), /projectKeys must be \(k, n\) with n = 5, got \[3, 4\]/);
  });
});

test('Performer: forward and gradients in q, k, v, with padding', async () => {
  const [q, k, v] = [0, 1, 2].map(() => rng.array([2, 2, 6, 4]));
  const w = rng.array([5, 4]);
  await gradCheck('performer', (q, k, v, w, m) => E.performerAttention(q, k, v, { features: w, mask: m }),
    (q, k, v, w, m) => performerRef(q, k, v, w, m), [q, k, v, w, mask], { constant: [3, 4] });
});

test('Performer approaches exact attention as the features grow; orthogonal feature blocks', () => {
  E.tidy(() => {
    const [q, k, v] = [0, 1, 2].map(() => toTensor(R.mulScalar(rng.array([1, 1, 16, 8]), 0.7)));
    const exact = E.softmaxAttention(q, k, v).toArray() as Float32Array;
    const error = (m: number) => {
      const approx = E.performerAttention(q, k, v, { features: E.orthogonalRandomFeatures(m, 8, 11) }).toArray() as Float32Array;
      return Math.sqrt(approx.reduce((s, x, i) => s + (x - exact[i]) ** 2, 0) / exact.reduce((s, x) => s + x * x, 0));
    };
    const [coarse, fine] = [error(8), error(4096)];
    assert.ok(fine < 0.05, `relative error with 4096 features: ${fine}`);
    assert.ok(fine < coarse, `more features, less error: ${coarse} → ${fine}`);
    const w = E.orthogonalRandomFeatures(8, 8, 3).toArray();
    for (let a = 0; a < 8; a++) for (let b = a + 1; b < 8; b++) {
      const dot = Array.from({ length: 8 }, (_, i) => w[a * 8 + i] * w[b * 8 + i]).reduce((s, x) => s + x, 0);
      assert.ok(Math.abs(dot) < 1e-4, `rows ${a} and ${b} of a block are orthogonal (${dot})`);
    }
  });
});
