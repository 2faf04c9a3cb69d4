/** 8-bit linear products: the kernels against a plain reference of the same integer arithmetic, builds and threads bit for bit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../src/engine/index.js';
import { Rng } from './rng.js';

const f = Math.fround;

/** The documented arithmetic (docs/quantization.md), in float32 steps where the kernel rounds, integers exactly. */
function referenceLinearQ8(x: Float32Array, rows: number, k: number, codes: Int8Array, scale: Float32Array, n: number,
  bias: Float32Array | null): Float32Array {
  const y = new Float32Array(rows * n);
  const clamp = (v: number) => Math.min(127, Math.max(0, v));
  for (let i = 0; i < rows; i++) {
    const row = x.subarray(i * k, (i + 1) * k);
    const lo = Math.min(0, ...row);
    const hi = Math.max(0, ...row);
    let s = f(f(hi - lo) / 127);
    if (!(s > 0)) s = 1;
    const inv = f(1 / s);
    const zero = clamp(roundHalfEven(f(-lo * inv)));
    const q = Array.from(row, (v) => clamp(roundHalfEven(f(v * inv)) + zero));
    for (let j = 0; j < n; j++) {
      let acc = 0;
      let sum = 0;
      for (let p = 0; p < k; p++) {
        acc += q[p] * codes[j * k + p];
        sum += codes[j * k + p];
      }
      let v = f(f(s * scale[j]) * f(acc - zero * sum));
      if (bias) v = f(v + bias[j]);
      y[i * n + j] = v;
    }
  }
  return y;
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function randomCase(rng: Rng, rows: number, k: number, n: number) {
  const x = Float32Array.from({ length: rows * k }, () => f(rng.normal() * (1 + 3 * rng.next())));
  const w = Float32Array.from({ length: n * k }, () => f(rng.normal() * 0.05));
  const bias = Float32Array.from({ length: n }, () => f(rng.normal()));
  return { x, w, bias };
}

function runQ8(x: Float32Array, rows: number, k: number, codes: Int8Array, scale: Float32Array, n: number, bias: Float32Array | null): Float32Array {
  return E.tidy(() => E.noGrad(() => {
    const w = E.q8Weights(codes, scale, n, k);
    const y = E.linearQ8(E.tensor(x, [rows, k]), w, bias && E.tensor(bias, [n]));
    const out = y.toArray() as Float32Array;
    E.disposeQ8Weights(w);
    return out;
  }));
}

test('quantizeWeights: symmetric int8 codes per output channel, within half a step of the weights', () => {
  const rng = new Rng(1);
  const n = 5;
  const k = 37;
  const w = Float32Array.from({ length: n * k }, () => f(rng.normal()));
  w.fill(0, 2 * k, 3 * k); // an all-zero channel
  const { codes, scale } = E.quantizeWeights(w, n, k);
  for (let j = 0; j < n; j++) {
    const row = codes.subarray(j * k, (j + 1) * k);
    if (j === 2) {
      assert.equal(scale[j], 1);
      assert.ok(row.every((c) => c === 0));
      continue;
    }
    assert.equal(Math.max(...row.map(Math.abs)), 127, `channel ${j} uses the full range`);
    for (let p = 0; p < k; p++) assert.ok(Math.abs(row[p] * scale[j] - w[j * k + p]) <= scale[j] / 2 + 1e-7, `w[${j}, ${p}]`);
  }
  assert.throws(() => E.quantizeWeights(new Float32Array([1, NaN]), 1, 2), /row 0 holds NaN/);
});

test('linearQ8 equals the reference arithmetic exactly, over awkward sizes, with and without bias', () => {
  const rng = new Rng(2);
  for (const [rows, k, n] of [[1, 1, 1], [3, 17, 5], [4, 16, 2], [7, 33, 9], [9, 64, 64], [13, 200, 67], [66, 768, 130]]) {
    const { x, w, bias } = randomCase(rng, rows, k, n);
    const { codes, scale } = E.quantizeWeights(w, n, k);
    for (const b of [bias, null]) {
      const got = runQ8(x, rows, k, codes, scale, n, b);
      assert.deepEqual(got, referenceLinearQ8(x, rows, k, codes, scale, n, b), `rows=${rows} k=${k} n=${n} bias=${!!b}`);
    }
  }
});

test('linearQ8 is close to the float32 product: error within the two quantization steps', () => {
  const rng = new Rng(3);
  const rows = 32, k = 256, n = 48;
  const { x, w, bias } = randomCase(rng, rows, k, n);
  const { codes, scale } = E.quantizeWeights(w, n, k);
  const got = runQ8(x, rows, k, codes, scale, n, bias);
  let worst = 0;
  for (let i = 0; i < rows; i++) {
    const row = x.subarray(i * k, (i + 1) * k);
    const step = (Math.max(0, ...row) - Math.min(0, ...row)) / 127;
    for (let j = 0; j < n; j++) {
      let exact = bias[j];
      let bound = 0;
      for (let p = 0; p < k; p++) {
        exact += row[p] * w[j * k + p];
        // |Δx|·|w| + |x|·|Δw| per product, as independent rounding errors add up to ~√k of their sum
        bound += (step / 2) * Math.abs(w[j * k + p]) + Math.abs(row[p]) * (scale[j] / 2);
      }
      const err = Math.abs(got[i * n + j] - exact);
      assert.ok(err <= bound, `y[${i}, ${j}]: error ${err} above the worst case ${bound}`);
      worst = Math.max(worst, err / bound);
    }
  }
  assert.ok(worst < 0.5, `errors add up like independent roundings, not worst cases (worst ratio ${worst})`);
});

test('linearQ8 gives the same bits on 1, 2 and 3 threads and in both kernel builds', () => {
  const rng = new Rng(4);
  const rows = 70, k = 300, n = 90;
  const { x, w, bias } = randomCase(rng, rows, k, n);
  const { codes, scale } = E.quantizeWeights(w, n, k);
  const before = E.configureEngine({});
  const results: [string, Float32Array][] = [];
  try {
    for (const build of ['relaxed', 'simd'] as const) {
      for (const threads of [1, 2, 3]) {
        const b = E.configureEngine({ build, threads });
        results.push([`${b.build} × ${threads}`, runQ8(x, rows, k, codes, scale, n, bias)]);
      }
    }
  } finally {
    E.configureEngine({ build: before.build, threads: before.threads });
  }
  for (const [name, y] of results) assert.deepEqual(y, results[0][1], `${name} against ${results[0][0]}`);
});

test('linearQ8 refuses bad input and gradients with clear errors', () => {
  E.tidy(() => {
    const w = E.q8Weights(new Int8Array(6), new Float32Array(2), 2, 3);
    assert.throws(() => E.noGrad(() => E.linearQ8(E.zeros([4, 5]), w)), /linearQ8 \(3 → 2\): input float32 \[4, 5\] must be float32 with 3 features/);
    assert.throws(() => E.noGrad(() => E.linearQ8(E.zeros([4, 3]), w, E.zeros([3]))), /bias \[3\] is not \[2\]/);
    const x = E.parameter(E.zeros([1, 3]));
    assert.throws(() => E.linearQ8(x, w), /for inference and have no gradient/);
    x.dispose();
    assert.deepEqual(E.noGrad(() => E.linearQ8(E.zeros([0, 3]), w)).shape, [0, 2]);
    E.disposeQ8Weights(w);
    assert.throws(() => E.q8Weights(new Int8Array(5), new Float32Array(2), 2, 3), /5 codes and 2 scales do not make \[2, 3\]/);
  });
});

test('where onnxruntime-node is installed, large 8-bit products run on its int8 GEMM, close to the float32 product', (t) => {
  const before = E.configureEngine({});
  if (!before.hasNativeGemm) return t.skip('no native GEMM here (onnxruntime-node is not installed)');
  const rng = new Rng(5);
  const rows = 300, k = 256, n = 272; // k a multiple of 16: the codes' rows hold exactly k bytes
  const { x, w, bias } = randomCase(rng, rows, k, n);
  const { codes, scale } = E.quantizeWeights(w, n, k);
  let got: Float32Array;
  try {
    E.configureEngine({ gemm: 'native' });
    const b = E.backend() as typeof before;
    got = runQ8(x, rows, k, codes, scale, n, bias);
    assert.equal(b.gemmCalls.native, 1, 'one native call');
  } finally {
    E.configureEngine({ gemm: 'auto' });
  }
  const kernels = runQ8(x, rows, k, codes, scale, n, bias);
  // per-tensor 8-bit activations (onnxruntime) against per-row 7-bit ones (the kernels): both near float32
  let worst = 0;
  let scaleOfY = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < n; j++) {
      let exact = bias[j];
      for (let p = 0; p < k; p++) exact += x[i * k + p] * w[j * k + p];
      worst = Math.max(worst, Math.abs(got[i * n + j] - exact), Math.abs(kernels[i * n + j] - exact));
      scaleOfY = Math.max(scaleOfY, Math.abs(exact));
    }
  }
  assert.ok(worst < 0.02 * scaleOfY, `worst error ${worst} against outputs up to ${scaleOfY}`);
});
