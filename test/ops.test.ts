/** Forward and finite-difference gradient checks of every differentiable op against test/reference.ts. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../src/engine/index.js';
import * as R from './reference.js';
import { assertClose, gradCheck, readTensors, readValues, Rng, toTensor } from './check.js';
import { onEveryBackend } from './webgpu/backends.js';
import type { NDArray } from './reference.js';

const rng = new Rng(20240601);

await onEveryBackend(() => {
  /** Uniform values kept away from 0 (kinks of relu/abs, poles of 1/x). */
  const awayFromZero = (shape: number[]) => R.map(rng.array(shape), (v) => (Math.abs(v) < 0.05 ? 0.5 : v));

  describe('unary ops', () => {
    const mixed: R.UnaryName[] = ['neg', 'exp', 'tanh', 'sigmoid', 'gelu', 'geluTanh', 'erf', 'square', 'relu', 'abs'];
    const positive: R.UnaryName[] = ['log', 'sqrt', 'rsqrt', 'reciprocal'];
    for (const name of [...mixed, ...positive]) {
      test(name, async () => {
        const x = positive.includes(name) ? rng.array([3, 17], 0.3, 2.5) : R.mulScalar(awayFromZero([3, 17]), 2.5);
        const f = E[name] as (t: E.Tensor) => E.Tensor;
        await gradCheck(name, f, (a) => R.unary(name, a), [x]);
        // on a non-contiguous (transposed) view
        await gradCheck(`${name} of transpose`, (a) => f(E.transpose(a)), (a) => R.unary(name, R.transpose(a)), [x]);
      });
    }
    test('scalar ops', async () => {
      const x = rng.array([17], 0.2, 2);
      await gradCheck('addScalar', (a) => E.addScalar(a, 0.7), (a) => R.addScalar(a, 0.7), [x]);
      await gradCheck('mulScalar', (a) => E.mulScalar(a, -1.3), (a) => R.mulScalar(a, -1.3), [x]);
      await gradCheck('powScalar 2.5', (a) => E.powScalar(a, 2.5), (a) => R.powScalar(a, 2.5), [x]);
      await gradCheck('powScalar -0.5', (a) => E.powScalar(a, -0.5), (a) => R.powScalar(a, -0.5), [x]);
    });
    test('step has no gradient', async () => {
      const x = E.parameter(E.tensor([-1, 0, 2]));
      const s = E.step(x);
      assert.equal(s.requiresGrad, false);
      assert.deepEqual([...(await readTensors([s]))[0]], [0, 0, 1]);
      x.dispose();
    });
  });

  describe('binary ops with broadcasting', () => {
    const shapes: [number[], number[]][] = [[[2, 3, 4], [3, 1]], [[2, 3, 4], [4]], [[3, 1], [2, 1, 4]], [[1], [3, 17]], [[3, 17], [3, 17]]];
    const ops = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'] as const;
    for (const name of ops) {
      test(name, async () => {
        for (const [sa, sb] of shapes) {
          const a = name === 'pow' ? rng.array(sa, 0.5, 2) : rng.array(sa);
          const b = name === 'div' ? R.map(rng.array(sb, 0.5, 2), (v) => (rng.next() < 0.5 ? -v : v)) : name === 'pow' ? rng.array(sb, -1.5, 1.5) : rng.array(sb);
          const f = E[name];
          await gradCheck(`${name} [${sa}] [${sb}]`, f, (x, y) => R.binary(name, x, y), [a, b]);
        }
        // transposed view against a contiguous operand, and a sliced view
        const a = name === 'pow' ? rng.array([4, 3], 0.5, 2) : rng.array([4, 3]);
        const b = name === 'div' ? rng.array([3, 4], 0.5, 2) : rng.array([3, 4], -1, 1);
        await gradCheck(`${name} transposed`, (x, y) => E[name](E.transpose(x), y), (x, y) => R.binary(name, R.transpose(x), y), [a, b]);
        await gradCheck(`${name} sliced`, (x, y) => E[name](E.slice(x, 0, 1, 4), E.slice(y, 1, 1, 4)),
          (x, y) => R.binary(name, R.slice(x, 0, 1, 4), R.slice(y, 1, 1, 4)), [a, b]);
      });
    }
    test('maximum/minimum split tied gradients evenly', async () => {
      const a = R.nd([2, 3], [1, 2, 3, 4, 5, 6]);
      const b = R.nd([3], [1, 0, 3]); // ties at columns 0 and 2 of row 0
      await gradCheck('maximum ties', E.maximum, (x, y) => R.binary('maximum', x, y), [a, b]);
      await gradCheck('minimum ties', E.minimum, (x, y) => R.binary('minimum', x, y), [a, b]);
      const x = E.parameter(E.tensor([1, 2, 3]));
      const y = E.parameter(E.tensor([1, 0, 3]));
      const [gx, gy] = await readValues(() => E.gradients([E.sum(E.maximum(x, y))], [x, y]));
      [x, y].forEach((p) => p.dispose());
      assert.deepEqual([...gx], [0.5, 1, 0.5]);
      assert.deepEqual([...gy], [0.5, 0, 0.5]);
    });
  });

  describe('where and maskedFill', () => {
    test('where broadcasts condition and branches', async () => {
      const cond = R.nd([3, 1], [1, 0, 1]);
      await gradCheck('where', E.where, R.where, [cond, rng.array([2, 3, 4]), rng.array([4])], { constant: [0] });
    });
    test('maskedFill', async () => {
      const mask = R.nd([1, 5], [0, 1, 0, 0, 1]);
      await gradCheck('maskedFill', (x, m) => E.maskedFill(x, m, -7), (x, m) => R.maskedFill(x, m, -7), [rng.array([3, 5]), mask], { constant: [1] });
    });
    test('−Infinity from maskedFill does not leak NaN into gradients', async () => {
      const mask = R.nd([3, 5], [0, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0]);
      await gradCheck('maskedFill(−inf) → softmax', (x, m) => E.softmax(E.maskedFill(x, m, -Infinity)),
        (x, m) => R.softmax(R.maskedFill(x, m, -Infinity)), [rng.array([3, 5]), mask], { constant: [1] });
      await gradCheck('where(−inf) → softmax', (c, x, f) => E.softmax(E.where(c, x, f)),
        (c, x, f) => R.softmax(R.where(c, x, f)), [R.map(mask, (v) => 1 - v), rng.array([3, 5]), R.nd([1], [-Infinity])],
        { constant: [0, 2] });
    });
  });

  describe('reductions', () => {
    const x = rng.array([2, 3, 4]);
    const cases: [string, number | number[] | undefined, boolean][] = [['all', undefined, false], ['axis 1', 1, false], ['axes [0, 2]', [0, 2], false], ['axis -1 keepDims', -1, true], ['axes [0, 1] keepDims', [0, 1], true]];
    for (const name of ['sum', 'mean', 'max', 'min'] as const) {
      test(name, async () => {
        for (const [label, axes, keepDims] of cases) {
          await gradCheck(`${name} ${label}`, (t) => E[name](t, axes, { keepDims }), (t) => R[name](t, axes, keepDims), [x]);
        }
        await gradCheck(`${name} of transpose`, (t) => E[name](E.transpose(t, 0, 2), 1), (t) => R[name](R.transpose(t, 0, 2), 1), [x]);
      });
    }
    test('sumTo', async () => {
      await gradCheck('sumTo [3,1]', (t) => E.sumTo(t, [3, 1]), (t) => R.sumTo(t, [3, 1]), [x]);
      await gradCheck('sumTo [4]', (t) => E.sumTo(t, [4]), (t) => R.sumTo(t, [4]), [x]);
    });
    test('max/min split the gradient evenly between tied elements', async () => {
      const t = E.parameter(E.tensor([1, 3, 2, 2, 2, 2], [2, 3]));
      const [g, h, k] = await readValues(() => [E.sum(E.max(t, -1)), E.sum(E.min(t, 0)), E.max(t)].map((y) => E.gradients([y], [t])[0]));
      t.dispose();
      assertClose(g, [0, 1, 0, 1 / 3, 1 / 3, 1 / 3], {}, 'max ties');
      assertClose(h, [1, 0, 0.5, 0, 1, 0.5], {}, 'min ties');
      assertClose(k, [0, 1, 0, 0, 0, 0], {}, 'max of all');
      await gradCheck('max two-way ties', (t) => E.max(t, 1), (t) => R.max(t, 1), [R.nd([2, 3], [1, 3, 3, 4, 0, 4])]);
    });
  });

  describe('views', () => {
    const x = rng.array([2, 3, 4]);
    test('reshape, including of a non-contiguous view', async () => {
      await gradCheck('reshape', (t) => E.reshape(t, [4, -1]), (t) => R.reshape(t, [4, -1]), [x]);
      await gradCheck('reshape of transpose', (t) => E.reshape(E.transpose(t), [6, 4]), (t) => R.reshape(R.transpose(t), [6, 4]), [x]);
    });
    test('permute and transpose', async () => {
      await gradCheck('permute', (t) => E.permute(t, [2, 0, 1]), (t) => R.permute(t, [2, 0, 1]), [x]);
      await gradCheck('transpose 0 2', (t) => E.mul(E.transpose(t, 0, 2), E.transpose(t, 0, 2)), (t) => R.mul(R.transpose(t, 0, 2), R.transpose(t, 0, 2)), [x]);
    });
    test('slice', async () => {
      await gradCheck('slice middle', (t) => E.slice(t, 1, 1, 3), (t) => R.slice(t, 1, 1, 3), [x]);
      await gradCheck('slice negative', (t) => E.slice(t, -1, -3, -1), (t) => R.slice(t, -1, 1, 3), [x]);
      await gradCheck('slice of slice', (t) => E.exp(E.slice(E.slice(t, 2, 1, 4), 0, 1, 2)), (t) => R.unary('exp', R.slice(R.slice(t, 2, 1, 4), 0, 1, 2)), [x]);
    });
    test('expand, unsqueeze, squeeze, contiguous', async () => {
      const y = rng.array([3, 1]);
      await gradCheck('expand', (t) => E.expand(t, [2, 3, 4]), (t) => R.expand(t, [2, 3, 4]), [y]);
      await gradCheck('unsqueeze', (t) => E.unsqueeze(t, 1), (t) => R.unsqueeze(t, 1), [y]);
      await gradCheck('squeeze', (t) => E.squeeze(t, -1), (t) => R.squeeze(t, -1), [y]);
      await gradCheck('contiguous of permute', (t) => E.contiguous(E.permute(t, [1, 2, 0])), (t) => R.permute(t, [1, 2, 0]), [x]);
    });
  });

  describe('matmul', () => {
    const make = (rows: number, cols: number, trans: boolean, batch: number[] = []) => rng.array(trans ? [...batch, cols, rows] : [...batch, rows, cols]);
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
      test(`transA=${transA} transB=${transB}`, async () => {
        for (const [m, k, n] of [[3, 17, 1], [1, 3, 17], [17, 1, 3], [3, 5, 4]]) {
          const opts = { transA, transB };
          await gradCheck(`matmul ${m}x${k}x${n}`, (a, b) => E.matmul(a, b, opts), (a, b) => R.matmul(a, b, opts), [make(m, k, transA), make(k, n, transB)]);
          await gradCheck(`matmul batched ${m}x${k}x${n}`, (a, b) => E.matmul(a, b, opts), (a, b) => R.matmul(a, b, opts), [make(m, k, transA, [2, 1]), make(k, n, transB, [3])]);
        }
      });
    }
    test('broadcast batch against a rank-2 operand, and non-contiguous operands', async () => {
      await gradCheck('batched × matrix', (a, b) => E.matmul(a, b), (a, b) => R.matmul(a, b), [rng.array([2, 3, 4, 5]), rng.array([5, 3])]);
      await gradCheck('matrix × batched', (a, b) => E.matmul(a, b), (a, b) => R.matmul(a, b), [rng.array([4, 5]), rng.array([2, 5, 3])]);
      await gradCheck('permuted batch operand', (a, b) => E.matmul(E.permute(a, [1, 0, 2]), b),
        (a, b) => R.matmul(R.permute(a, [1, 0, 2]), b), [rng.array([3, 2, 5]), rng.array([2, 5, 4])]);
      await gradCheck('sliced operand', (a, b) => E.matmul(E.slice(a, 1, 1, 4), E.transpose(b)),
        (a, b) => R.matmul(R.slice(a, 1, 1, 4), R.transpose(b)), [rng.array([2, 5, 6]), rng.array([2, 3, 6])]);
      await gradCheck('operand without a unit stride', (a, b) => E.matmul(E.permute(a, [2, 0, 1]), b),
        (a, b) => R.matmul(R.permute(a, [2, 0, 1]), b), [rng.array([4, 3, 2]), rng.array([3, 5])]);
      await gradCheck('same tensor twice', (a) => E.matmul(a, a, { transB: true }), (a) => R.matmul(a, a, { transB: true }), [rng.array([3, 4])]);
    });
    test('bias: the gradient, and the bits of add(matmul(a, b), bias) on every GEMM path', async () => {
      await gradCheck('matmul with bias', (a, b, c) => E.matmul(a, b, { transB: true, bias: c }),
        (a, b, c) => R.add(R.matmul(a, b, { transB: true }), c), [rng.array([2, 5, 6]), rng.array([4, 6]), rng.array([4])]);
      // packed tiles with edges, several K blocks, one row (unpacked), a batch, k = 0; the bias a view at an offset
      const shapes: [number[], number[], boolean][] = [[[37, 29], [29, 70], false], [[9, 600], [33, 600], true], [[1, 40], [40, 77], false],
        [[3, 13, 21], [21, 19], false], [[6, 0], [0, 5], false]];
      for (const [as, bs, transB] of shapes) {
        const n = bs[transB ? 0 : 1];
        const [fused, separate] = await readValues(() => {
          const a = E.randn(as, 1), b = E.randn(bs, 2), bias = E.slice(E.randn([2 * n], 3), 0, n, 2 * n);
          return [E.matmul(a, b, { transB, bias }), E.add(E.matmul(a, b, { transB }), bias)];
        });
        assert.deepEqual(fused, separate, `${as} × ${bs}`);
      }
      E.tidy(() => assert.throws(() => E.matmul(E.ones([2, 3]), E.ones([3, 4]), { bias: E.ones([3]) }), /the bias must be float32 \[4\], got float32 \[3\]/));
    });
  });

  describe('softmax family', () => {
    const x = R.mulScalar(rng.array([3, 17]), 3);
    const mask = R.nd([1, 17], (i) => (i % 3 === 1 ? -1e9 : 0));
    for (const name of ['softmax', 'logSoftmax'] as const) {
      test(name, async () => {
        await gradCheck(name, (t) => E[name](t), (t) => R[name](t), [x]);
        await gradCheck(`${name} of transpose`, (t) => E[name](E.transpose(t)), (t) => R[name](R.transpose(t)), [R.transpose(x)]);
        await gradCheck(`${name} one column`, (t) => E[name](t), (t) => R[name](t), [rng.array([4, 1])]);
        // Masked log-probabilities are ≈ −1e9: zero them (a constant 0/1 factor) so the float64
        // finite differences of Σ y·c do not drown in the rounding of 1e9-sized terms.
        const keep = (m: NDArray) => R.map(m, (v) => (v < -1 ? 0 : 1));
        const masked = (t: E.Tensor, m: E.Tensor, k: E.Tensor) => E.mul(E[name](t, { mask: m }), k);
        const maskedRef = (t: NDArray, m: NDArray, k: NDArray) => R.mul(R[name](t, m), k);
        await gradCheck(`${name} with −1e9 mask`, masked, maskedRef, [x, mask, keep(mask)], { constant: [1, 2] });
        const mask3 = R.reshape(R.expand(mask, [3, 17]), [3, 1, 17]);
        await gradCheck(`${name} with [3,1,17] mask`, masked, maskedRef, [rng.array([3, 2, 17]), mask3, keep(mask3)], { constant: [1, 2] });
      });
    }
    test('a row masked entirely with −Infinity gives NaN, other rows are unaffected', async () => {
      const [y] = await readValues(() => {
        const m = E.tensor([-Infinity, -Infinity, -Infinity, 0, -Infinity, 0], [2, 3]);
        return [E.softmax(E.zeros([2, 3]), { mask: m })];
      });
      assert.ok(y.slice(0, 3).every(Number.isNaN), `row 0 should be NaN, got ${y.slice(0, 3)}`);
      assertClose(y.slice(3), [0.5, 0, 0.5], {}, 'row 1');
    });
  });

  describe('nn functions', () => {
    test('layerNorm with weight and bias', async () => {
      await gradCheck('layerNorm', (x, w, b) => E.layerNorm(x, w, b), (x, w, b) => R.layerNorm(x, w, b), [R.mulScalar(rng.array([3, 17]), 2), rng.array([17]), rng.array([17])]);
      await gradCheck('layerNorm no affine', (x) => E.layerNorm(x), (x) => R.layerNorm(x), [rng.array([2, 3, 5])]);
      await gradCheck('layerNorm eps 0.1', (x, w) => E.layerNorm(x, w, undefined, 0.1), (x, w) => R.layerNorm(x, w, undefined, 0.1), [rng.array([4, 3]), rng.array([3])]);
      await gradCheck('layerNorm bias only', (x, b) => E.layerNorm(x, undefined, b), (x, b) => R.layerNorm(x, undefined, b), [rng.array([3, 6]), rng.array([6])]);
    });
    test('crossEntropy', async () => {
      const logits = R.mulScalar(rng.array([6, 7]), 2);
      const targets = R.nd([6], [3, -100, 0, 6, 3, 2]);
      await gradCheck('crossEntropy', (l, t) => E.crossEntropy(l, t), (l, t) => R.crossEntropy(l, t), [logits, targets], { int32: [1] });
      await gradCheck('crossEntropy labelSmoothing', (l, t) => E.crossEntropy(l, t, { labelSmoothing: 0.1 }),
        (l, t) => R.crossEntropy(l, t, { labelSmoothing: 0.1 }), [logits, targets], { int32: [1] });
      await gradCheck('crossEntropy ignoreIndex 3', (l, t) => E.crossEntropy(l, t, { ignoreIndex: 3, labelSmoothing: 0.2 }),
        (l, t) => R.crossEntropy(l, t, { ignoreIndex: 3, labelSmoothing: 0.2 }), [logits, R.nd([6], [3, 1, 0, 6, 3, 2])], { int32: [1] });
    });
    test('mseLoss', async () => {
      await gradCheck('mseLoss', E.mseLoss, R.mseLoss, [rng.array([3, 4]), rng.array([3, 4])]);
    });
    test('binaryCrossEntropyWithLogits, soft and hard targets', async () => {
      const logits = R.mulScalar(rng.array([3, 4]), 4);
      await gradCheck('bce', E.binaryCrossEntropyWithLogits, R.binaryCrossEntropyWithLogits, [logits, rng.array([3, 4], 0, 1)]);
      const hard = R.nd([3, 4], [1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]);
      await gradCheck('bce hard', E.binaryCrossEntropyWithLogits, R.binaryCrossEntropyWithLogits, [logits, hard], { constant: [1] });
    });
    test('dropout: deterministic mask, mean scaling, gradient = mask·scale', async () => {
      const n = 20000;
      const p = 0.3;
      const cot = rng.randn([n]);
      const ones = E.parameter(E.ones([n]));
      const [a, b, c, g, gEval] = await readValues(() => [E.dropout(ones, p, 7), E.dropout(ones, p, 7), E.dropout(ones, p, 8),
        E.gradients([E.dropout(ones, p, 7)], [ones], [toTensor(cot)])[0], E.gradients([E.dropout(ones, p, 7, false)], [ones], [toTensor(cot)])[0]]);
      ones.dispose();
      {
        assert.deepEqual(a, b, 'same seed, same mask');
        // the fused mask kernel against its definition on the uniform stream: keep where u − p > 0
        const [u] = await readValues(() => [E.rand([n], 7)]);
        const scaleF = Math.fround(1 / (1 - p));
        assert.deepEqual(a, u.map((v) => (Math.fround(v - Math.fround(p)) > 0 ? scaleF : 0)), 'the mask is the stream thresholded at p');
        // the vector loop and the scalar tail, at thresholds on and off the 2^-24 grid
        for (const [len, q, seed] of [[1003, 0.5, 5], [4099, 0.1, 6], [67, Math.fround(3 / 16777216), 9]]) {
          const [m, v] = await readValues(() => [E.dropout(E.ones([len]), q, seed), E.rand([len], seed)]);
          const s = Math.fround(1 / (1 - q));
          assert.deepEqual(m, v.map((w) => (Math.fround(w - Math.fround(q)) > 0 ? s : 0)), `mask of ${len} at p = ${q}`);
        }
        assert.notDeepEqual(a, c, 'another seed, another mask');
        const scale = Math.fround(1 / (1 - p));
        assert.ok(a.every((v) => v === 0 || Math.abs(v - scale) < 1e-6), 'values are 0 or 1/(1−p)');
        const kept = a.filter((v) => v !== 0).length / n;
        assert.ok(Math.abs(kept - (1 - p)) < 0.015, `kept fraction ${kept}, expected ≈ ${1 - p}`);
        assert.ok(Math.abs(a.reduce((s, v) => s + v, 0) / n - 1) < 0.02, 'mean is preserved');
        assertClose(g, R.mul(cot, R.nd([n], a)), {}, 'gradient');
        assertClose(gEval, cot, {}, 'eval mode is the identity');
      }
      const x = rng.array([5, 7]);
      const [mask] = await readValues(() => [E.dropout(E.ones(x.shape), 0.5, 3)]);
      const keep = R.nd(x.shape, mask.map((v) => (v ? 1 : 0)));
      await gradCheck('dropout', (t) => E.dropout(t, 0.5, 3), (t) => R.dropout(t, keep, 0.5), [x]);
      await gradCheck('addDropout', (r, t) => E.addDropout(r, t, 0.5, 3), (r, t) => R.add(r, R.dropout(t, keep, 0.5)), [rng.array([5, 7]), x]);
    });
    test('addDropout: the bits of add(residual, dropout(x)), training or not', async () => {
      const [fused, separate, evalFused, evalSeparate] = await readValues(() => {
        const r = E.randn([3, 1001], 1), x = E.randn([3, 1001], 2);
        return [E.addDropout(r, x, 0.2, 8), E.add(r, E.dropout(x, 0.2, 8)), E.addDropout(r, x, 0.2, 8, false), E.add(r, x)];
      });
      assert.deepEqual(fused, separate);
      assert.deepEqual(evalFused, evalSeparate);
      E.tidy(() => assert.throws(() => E.addDropout(E.ones([2, 3]), E.ones([3, 2]), 0.1, 1), /addDropout: residual \[2, 3\] and x \[3, 2\] differ/));
    });
  });

  describe('indexing and assembly', () => {
    test('take with repeated ids scatter-adds', async () => {
      const ids = R.nd([2, 4], [0, 2, 2, 4, 2, 0, 1, 2]);
      await gradCheck('take', E.take, R.take, [rng.array([5, 3]), ids], { int32: [1] });
      await gradCheck('take 1-d table', E.take, R.take, [rng.array([5]), R.nd([6], [4, 4, 4, 0, 1, 4])], { int32: [1] });
    });
    test('gather along first, middle and last axis', async () => {
      const x = rng.array([2, 5, 3]);
      await gradCheck('gather axis 1', (t, i) => E.gather(t, i, 1), (t, i) => R.gather(t, i, 1), [x, rng.ints([2, 4, 3], 5)], { int32: [1] });
      await gradCheck('gather axis 0', (t, i) => E.gather(t, i, 0), (t, i) => R.gather(t, i, 0), [x, rng.ints([3, 5, 3], 2)], { int32: [1] });
      await gradCheck('gather axis -1', (t, i) => E.gather(t, i, -1), (t, i) => R.gather(t, i, -1), [x, rng.ints([2, 5, 7], 3)], { int32: [1] });
    });
    test('concat, stack, pad', async () => {
      await gradCheck('concat axis 1', (a, b, c) => E.concat([a, E.transpose(b), c], 1), (a, b, c) => R.concat([a, R.transpose(b), c], 1),
        [rng.array([2, 3]), rng.array([1, 2]), rng.array([2, 4])]);
      await gradCheck('concat axis 0', (a, b) => E.concat([a, b, a]), (a, b) => R.concat([a, b, a], 0), [rng.array([2, 3]), rng.array([1, 3])]);
      await gradCheck('stack axis 1', (a, b, c) => E.stack([a, b, c], 1), (a, b, c) => R.stack([a, b, c], 1), [rng.array([2, 3]), rng.array([2, 3]), rng.array([2, 3])]);
      await gradCheck('stack axis -1', (a, b) => E.stack([a, b], -1), (a, b) => R.stack([a, b], -1), [rng.array([2, 3]), rng.array([2, 3])]);
      await gradCheck('pad', (a) => E.pad(a, [[1, 2], [0, 3]]), (a) => R.pad(a, [[1, 2], [0, 3]]), [rng.array([2, 3])]);
      await gradCheck('pad first axis only', (a) => E.pad(a, [[2, 0]]), (a) => R.pad(a, [[2, 0]]), [rng.array([2, 3, 2])]);
      await gradCheck('pad of transpose', (a) => E.pad(E.transpose(a), [[0, 0], [1, 1]]), (a) => R.pad(R.transpose(a), [[0, 0], [1, 1]]), [rng.array([2, 3])]);
    });
  });

  describe('depthwiseConv1d', () => {
    for (const K of [1, 3, 5]) {
      test(`K = ${K}`, async () => {
        await gradCheck(`conv K=${K}`, E.depthwiseConv1d, R.depthwiseConv1d, [rng.array([2, 3, 6, 4]), rng.array([3, 1, K, 1])]);
        await gradCheck(`conv K=${K} n=1`, E.depthwiseConv1d, R.depthwiseConv1d, [rng.array([1, 2, 1, 3]), rng.array([2, 1, K, 1])]);
        await gradCheck(`conv K=${K} n=17, [H,K] weight`, E.depthwiseConv1d, R.depthwiseConv1d, [rng.array([1, 2, 17, 1]), rng.array([2, K])]);
      });
    }
    test('non-contiguous input', async () => {
      await gradCheck('conv of permute', (x, w) => E.depthwiseConv1d(E.permute(x, [0, 2, 1, 3]), w),
        (x, w) => R.depthwiseConv1d(R.permute(x, [0, 2, 1, 3]), w), [rng.array([2, 5, 3, 2]), rng.array([3, 1, 3, 1])]);
    });
  });

  describe('autograd API', () => {
    test('backward accumulates into .grad; gradients of a reused input', async () => {
      const x = E.parameter(E.tensor([1, 2, 3]));
      const loss = () => E.sum(E.mul(x, x));
      E.tidy(() => E.backward(loss()));
      assertClose((await readValues(() => [E.contiguous(x.grad!)]))[0], [2, 4, 6], {}, 'first backward');
      E.tidy(() => E.backward(loss()));
      assertClose((await readValues(() => [E.contiguous(x.grad!)]))[0], [4, 8, 12], {}, 'accumulated');
      const [g] = await readValues(() => E.gradients([E.add(x, x)], [x], [E.tensor([1, 1, 2])]));
      assertClose(g, [2, 2, 4], {}, 'x + x');
      assert.equal(E.tidy(() => E.noGrad(() => E.mul(x, x)).requiresGrad), false, 'noGrad records nothing');
      x.grad!.dispose();
      x.dispose();
    });
  });
});
