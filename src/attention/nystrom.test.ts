import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backend, concat, full, gradients, matmul, mulScalar, nystromAttention, nystromAttentionReference,
  nystromAttentionWithFactors, padAxis, randn, reshape, slice, softmax, tensor, Tensor, tidy,
} from '../index.js';
import type { NystromOptions } from '../index.js';
import { poolingWeights, segmentBounds, segmentMeans } from './landmarks.js';

function maxRelDiff(a: Tensor, b: Tensor): number {
  const x = a.toArray();
  const y = b.toArray();
  let worst = 0;
  let scale = 0;
  y.forEach((v, i) => {
    scale = Math.max(scale, Math.abs(v));
    worst = Math.max(worst, Math.abs(x[i] - v));
  });
  return worst / scale;
}

const qkv = (shape: number[], seed = 1) => [0, 1, 2].map((i) => randn(shape, seed * 10 + i));

test('segments: the uneven rule of docs/algorithm.md §1.7, and equal segments when m divides n', () => {
  assert.deepEqual(segmentBounds(8, 4), [[0, 2], [2, 4], [4, 6], [6, 8]]);
  // n = 10, m = 4: s = 2, the first (s+1)·m − n = 2 segments have 2 rows, the others 3
  assert.deepEqual(segmentBounds(10, 4), [[0, 2], [2, 4], [4, 7], [7, 10]]);
  for (const [n, m] of [[37, 5], [50, 8], [65, 64], [1000, 64]]) {
    const b = segmentBounds(n, m);
    assert.equal(b.length, m);
    assert.equal(b[m - 1][1], n);
    const lens = b.map(([s, e]) => e - s);
    assert.ok(Math.max(...lens) - Math.min(...lens) <= 1, `segments of ${n}/${m} differ by more than one row`);
  }
});

test('segments: segmentBounds is the rule the segmentMeans kernel (AssemblyScript) runs, for every m ≤ n ≤ 40 and larger pairs', () => {
  // Means of the identity's rows: row j of the result is 1/|segment j| on that segment's columns.
  const pairs: [number, number][] = [[100, 7], [257, 64], [600, 37], [1000, 64]];
  for (let n = 1; n <= 40; n++) for (let m = 1; m <= n; m++) pairs.push([n, m]);
  for (const [n, m] of pairs) {
    tidy(() => {
      const eye = new Float32Array(n * n);
      for (let i = 0; i < n; i++) eye[i * n + i] = 1;
      const got = segmentMeans(Tensor.from(eye, [1, 1, n, n]), m).toArray() as Float32Array;
      assert.deepEqual(got, poolingWeights(n, m), `segments of n=${n}, m=${m}`);
    });
  }
});

test('m ≥ n: exact softmax attention', () => {
  tidy(() => {
    const [q, k, v] = qkv([1, 2, 6, 4]);
    const got = nystromAttention(q, k, v, { numLandmarks: 6 });
    const want = matmul(softmax(mulScalar(matmul(q, k, { transB: true }), 0.5)), v);
    assert.ok(maxRelDiff(got, want) < 1e-6);
  });
});

test("segments 'pad' equals the official algorithm on input padded with masked rows", () => {
  tidy(() => {
    const [B, H, n, d, m] = [2, 2, 13, 8, 4];
    const [q, k, v] = qkv([B, H, n, d], 2);
    const w = randn([H, 1, 3, 1], 7, 0, 0.3);
    const got = nystromAttention(q, k, v, { numLandmarks: m, segments: 'pad', convWeight: w });
    const grow = (t: Tensor) => padAxis(t, 2, 0, 3);
    const mask = concat([full([B, n], 1), full([B, 3], 0)], 1);
    const want = slice(nystromAttention(grow(q), grow(k), grow(v), { numLandmarks: m, convWeight: w, mask }), 2, 0, n);
    assert.ok(maxRelDiff(got, want) < 1e-6);
  });
});

test('factors: (F·Z)·B·V + conv reproduces the output', () => {
  tidy(() => {
    const [q, k, v] = qkv([1, 2, 20, 8], 3);
    const { out, factors } = nystromAttentionWithFactors(q, k, v, { numLandmarks: 5 });
    assert.ok(factors);
    assert.deepEqual(factors.fz.shape, [1, 2, 20, 5]);
    assert.deepEqual(factors.b.shape, [1, 2, 5, 20]);
    assert.ok(maxRelDiff(matmul(matmul(factors.fz, factors.b), v), out) < 1e-5);
    assert.ok(maxRelDiff(nystromAttention(q, k, v, { numLandmarks: 5 }), out) === 0);
  });
});

test('forward and backward leave the arena as they found it', () => {
  const before = backend().bytesInUse;
  tidy(() => {
    const [q, k, v] = qkv([2, 2, 30, 8], 5);
    [q, k, v].forEach((t) => (t.requiresGrad = true));
    const mask = tensor(Array.from({ length: 60 }, (_, i) => (i % 30 < 25 ? 1 : 0)), [2, 30]);
    const out = nystromAttention(q, k, v, { numLandmarks: 4, mask, convWeight: randn([2, 1, 5, 1], 9) });
    gradients([out], [q, k, v], [randn(out.shape, 8)]);
  });
  assert.equal(backend().bytesInUse, before);
});

test('bad input: clear errors naming the problem', () => {
  tidy(() => {
    const [q, k, v] = qkv([1, 2, 8, 4], 6);
    const opts = { numLandmarks: 2 };
    assert.throws(() => nystromAttention(q, reshape(k, [1, 2, 4, 8]), v, opts), /nystromAttention: q \[1, 2, 8, 4\], k \[1, 2, 4, 8\]/);
    assert.throws(() => nystromAttention(reshape(q, [2, 8, 4]), k, v, opts), /q must be \(B, H, n, d\)/);
    assert.throws(() => nystromAttention(q, k, v, { numLandmarks: 0 }), /numLandmarks must be a positive integer/);
    assert.throws(() => nystromAttention(q, k, v, { numLandmarks: 2, mask: full([1, 7], 1) }), /mask must be \(B, n\) = \[1, 8\], got \[1, 7\]/);
    assert.throws(() => nystromAttention(q, k, v, { numLandmarks: 2, mask: full([1, 8], 0.5) }), /mask values must be 0 or 1/);
    assert.throws(() => nystromAttention(q, k, v, { numLandmarks: 2, convWeight: full([3, 1, 3, 1], 0) }), /convWeight must be \(H, 1, K, 1\)/);
    const bad = tensor([NaN, ...Array(63).fill(0)], [1, 2, 8, 4]);
    assert.throws(() => nystromAttention(bad, k, v, opts), /q \[1, 2, 8, 4\] contains non-finite values/);
  });
});

test('the fused op (hand-written backward) equals its composition under autograd', () => {
  const cases: [string, number[], number, Partial<NystromOptions>][] = [
    ['divisible, conv, mask', [2, 3, 32, 8], 4, { convWeight: randn([3, 1, 5, 1], 11, 0, 0.3), mask: true as never }],
    ['uneven segments', [1, 2, 37, 16], 5, {}],
    ['exact init, mask', [2, 2, 24, 8], 6, { pinvInit: 'exact', mask: true as never }],
    ['hf variant, conv, mask', [2, 2, 16, 4], 4, { variant: 'hf', convWeight: randn([2, 1, 3, 1], 12, 0, 0.3), mask: true as never }],
    ['pad mode', [1, 2, 13, 8], 4, { segments: 'pad' }],
    ['3 iterations', [1, 1, 20, 8], 5, { pinvIterations: 3 }],
  ];
  for (const [name, shape, m, extra] of cases) {
    tidy(() => {
      const [B, , n] = shape;
      const [q, k, v] = qkv(shape, 7);
      const mask = extra.mask ? tensor(Array.from({ length: B * n }, (_, i) => (i % n < n - 2 - (i < n ? 0 : 3) ? 1 : 0)), [B, n]) : undefined;
      const options: NystromOptions = { numLandmarks: m, ...extra, mask };
      const inputs = options.convWeight ? [q, k, v, options.convWeight] : [q, k, v];
      inputs.forEach((t) => (t.requiresGrad = true));
      const dout = randn(shape, 99);
      const fused = nystromAttention(q, k, v, options);
      const composed = nystromAttentionReference(q, k, v, options);
      assert.ok(maxRelDiff(fused, composed) < 1e-5, `${name}: outputs differ by ${maxRelDiff(fused, composed)}`);
      const gf = gradients([fused], inputs, [dout]);
      const gc = gradients([composed], inputs, [dout]);
      gf.forEach((g, i) => assert.ok(maxRelDiff(g, gc[i]) < 1e-4, `${name}: gradient ${i} differs by ${maxRelDiff(g, gc[i])}`));
      inputs.forEach((t) => (t.requiresGrad = false));
    });
  }
});
