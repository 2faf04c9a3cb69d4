/**
 * The WGSL reductions (src/engine/backend/webgpu/kernels/reduce.ts) against WebAssembly: row sums
 * / maxima / minima, column sums, softmax and log-softmax with their gradients, the running sum of
 * squares. Shapes are chosen off the workgroup size (128).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import { matchesWasm, onBackend, webgpuBackend } from './backends.js';
import { missingKernels, randTensor, uniform } from './gpu-inputs.js';
import { Rng } from '../check.js';

let gpu: E.WebGpuBackend | string;
before(async () => (gpu = await webgpuBackend()));

// Float32 sums in another order than WebAssembly's (which keeps f64 block totals): a few
// float32 roundings of the row's Σ|x|, well under 1e-5 of the largest output.
const SUM_TOL = 1e-5;
// softmax / log-softmax: float32 exp and log (GPU builtins, a few ulp) and float32 row sums.
const SOFTMAX_TOL = 1e-5;

const ROW_SHAPES = [[3, 17], [5, 300], [2, 1000], [1, 1], [4, 129], [2, 3, 7]];

/** Rows with special values: a NaN, −inf entries, a row that is all −inf (softmax → NaN). */
function special(rows: number, cols: number): E.Tensor {
  const v = uniform(new Rng(7), rows * cols, -3, 3);
  v[1] = NaN;
  v[cols + 2] = -Infinity;
  v[cols + cols - 1] = -Infinity;
  v.fill(-Infinity, 2 * cols, 3 * cols);
  v[3 * cols + 5] = Infinity;
  return E.tensor(v, [rows, cols]);
}

describe('webgpu reductions', () => {
  test('reduceRows: sum, max and min over trailing axes', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    for (const shape of ROW_SHAPES) {
      await matchesWasm(`sum ${shape}`, () => [E.sum(randTensor(1, shape, -1, 1), -1)], SUM_TOL, gpu);
      // max and min pick an input value: exact
      await matchesWasm(`max ${shape}`, () => [E.max(randTensor(2, shape, -5, 5), -1)], 0, gpu);
      await matchesWasm(`min ${shape}`, () => [E.min(randTensor(3, shape, -5, 5), -1)], 0, gpu);
    }
    // several trailing axes reduce as one row; sum over all axes of a tensor is reduceCols (below)
    await matchesWasm('sum [3, 4, 50] over [1, 2]', () => [E.sum(randTensor(4, [3, 4, 50]), [1, 2])], SUM_TOL, gpu);
    await matchesWasm('keepDims', () => [E.max(randTensor(5, [6, 33]), -1, { keepDims: true })], 0, gpu);
  });

  test('reduceRows: NaN propagates through max and min, ±inf are values', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const [mx, mn, s] = await matchesWasm('special', () => {
      const x = special(6, 300);
      return [E.max(x, -1), E.min(x, -1), E.sum(x, -1)];
    }, SUM_TOL, gpu);
    assert.ok(Number.isNaN(mx[0]) && Number.isNaN(mn[0]) && Number.isNaN(s[0]));
    assert.equal(mx[2], -Infinity);
    assert.equal(mx[3], Infinity);
  });

  test('reduceRows with no columns: 0, −inf, +inf', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    // the ops fill instead of reducing empty rows, so this calls the kernel itself
    const run = () => [0, 1, 2].map((op) => {
      const y = E.empty([3]);
      E.runKernel('reduceRows', [op, E.tensor(new Float32Array(1), [1]), y, 3, 0], 0);
      return y;
    });
    const got = await matchesWasm('cols = 0', run, 0, gpu);
    assert.deepEqual(got.map((v) => v[1]), [0, -Infinity, Infinity]);
  });

  test('reduceCols: sums over leading axes', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const shapes = [[17, 3], [300, 5], [1000, 2], [2, 1000], [37, 70], [5000], [4, 3, 129], [1, 1]];
    for (const shape of shapes) {
      await matchesWasm(`sum ${shape} over axis 0`, () => [E.sum(randTensor(6, shape))], SUM_TOL, gpu);
      await matchesWasm(`sum ${shape} over the first axis`, () => [E.sum(randTensor(7, shape), 0)], SUM_TOL, gpu);
    }
    await matchesWasm('sum [4, 3, 129] over [0, 1]', () => [E.sum(randTensor(8, [4, 3, 129]), [0, 1])], SUM_TOL, gpu);
  });

  for (const op of ['softmax', 'logSoftmax'] as const) {
    test(`${op}: forward and gradient`, async (t) => {
      if (typeof gpu === 'string') return t.skip(gpu);
      for (const shape of ROW_SHAPES) {
        await matchesWasm(`${op} ${shape}`, () => {
          const x = randTensor(9, shape, -4, 4, true);
          const y = E[op](x);
          const [dx] = E.gradients([y], [x], [randTensor(10, shape)]);
          return [y, dx];
        }, SOFTMAX_TOL, gpu);
      }
    });

    test(`${op}: −inf entries give 0 (log: −inf), an all −inf row NaN`, async (t) => {
      if (typeof gpu === 'string') return t.skip(gpu);
      const [y, dx] = await matchesWasm(`${op} masked`, () => {
        const x = special(4, 300);
        x.requiresGrad = true;
        const y = E[op](x);
        const [dx] = E.gradients([y], [x], [randTensor(11, [4, 300])]);
        return [y, dx];
      }, SOFTMAX_TOL, gpu);
      assert.equal(y[302], op === 'softmax' ? 0 : -Infinity);
      assert.ok(Number.isNaN(y[600]) && Number.isNaN(dx[600]));
    });
  }

  test('views at an element offset: inputs, outputs and the accumulator', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    // rows 1..3 of a [5, 130] tensor: a contiguous view that starts 130 elements in
    const view = (seed: number, grad = false) => {
      const v = E.slice(randTensor(seed, [5, 130], -3, 3), 0, 1, 4);
      v.requiresGrad = grad;
      return v;
    };
    await matchesWasm('reductions of a view', () => [E.sum(view(1), -1), E.max(view(1), -1), E.sum(view(1), 0)], SUM_TOL, gpu);
    for (const op of ['softmax', 'logSoftmax'] as const) {
      await matchesWasm(`${op} of a view`, () => {
        const x = view(2, true);
        const y = E[op](x);
        return [y, ...E.gradients([y], [x], [E.slice(randTensor(3, [5, 130]), 0, 2, 5)])];
      }, SOFTMAX_TOL, gpu);
    }
    // outputs written through views: the kernels themselves
    await matchesWasm('outputs at an offset', () => {
      const y = E.tensor(new Float32Array(7), [7]);
      const dx = E.tensor(new Float32Array(4 * 130), [4, 130]);
      const x = view(4);
      E.runKernel('reduceRows', [0, x, E.slice(y, 0, 2, 5), 3, 130], 0);
      E.runKernel('reduceCols', [x, E.slice(dx, 0, 0, 1), 3, 130], 0);
      E.runKernel('softmaxRowsGrad', [view(5), view(6), E.slice(dx, 0, 1, 4), 3, 130], 0);
      return [y, dx];
    }, SOFTMAX_TOL, gpu);
    const sums = async (): Promise<number[]> => {
      const acc = E.tensor(new Int32Array(new Float64Array([7, 0.5, 9]).buffer), [6], 'int32');
      const x = randTensor(7, [5, 130], -3, 3);
      const [xv, av] = [E.slice(x, 0, 1, 4), E.slice(acc, 0, 2, 4)];
      E.runKernel('sumSquares', [xv, 390, av], 0);
      const words = Int32Array.from(await acc.read());
      [xv, av, x, acc].forEach((v) => v.dispose());
      return Array.from(new Float64Array(words.buffer));
    };
    const [wasm, webgpu] = [await sums(), await onBackend(gpu, sums)];
    assert.equal(webgpu[0], 7);
    assert.equal(webgpu[2], 9);
    assert.ok(Math.abs(webgpu[1] - wasm[1]) <= 1e-6 * wasm[1], `sumSquares at an offset: ${webgpu[1]}, wasm ${wasm[1]}`);
  });

  test('sumSquares: float64 acc += Σ x², tensor by tensor', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const sizes = [1, 17, 1000, 5000, 20000, 0, 3];
    const parts = sizes.map((n, k) => uniform(new Rng(20 + k), n, -2, 2));
    const start = 1234.5678;
    let exact = start;
    for (const p of parts) for (const v of p) exact += v * v;
    const sumOn = async (): Promise<number> => {
      const acc = E.tensor(new Int32Array(Float64Array.of(start).buffer), [2], 'int32');
      for (const p of parts) {
        const x = E.tensor(p, [p.length]);
        E.runKernel('sumSquares', [x, x.size, acc], x.size);
        x.dispose();
      }
      const words = Int32Array.from(await acc.read());
      acc.dispose();
      return new Float64Array(words.buffer)[0];
    };
    const wasm = await sumOn();
    const webgpu = await onBackend(gpu, sumOn);
    // float32 accumulation on the GPU (no f64 in WGSL): a few float32 roundings of the total
    assert.ok(Math.abs(webgpu - wasm) <= 2e-6 * wasm, `sumSquares: webgpu ${webgpu}, wasm ${wasm}, float64 ${exact}`);
    assert.ok(Math.abs(wasm - exact) <= 1e-12 * exact);
  });

  test('sumSquares: n = 0 leaves the float64 accumulator bit for bit', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const got = await onBackend(gpu, async () => {
      const acc = E.tensor(new Int32Array(Float64Array.of(0.1).buffer), [2], 'int32');
      const x = E.tensor(new Float32Array(0), [0]);
      E.runKernel('sumSquares', [x, 0, acc], 0);
      const words = Int32Array.from(await acc.read());
      [x, acc].forEach((v) => v.dispose());
      return new Float64Array(words.buffer)[0];
    });
    assert.equal(got, 0.1);
  });

  test('sumSquares: float64 ↔ float32 conversions of the accumulator (large, tiny, negative)', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    for (const start of [3e30, -2.5, 1e-30, 0, 65504.0001]) {
      const got = await onBackend(gpu, async () => {
        const acc = E.tensor(new Int32Array(Float64Array.of(start).buffer), [2], 'int32');
        const x = E.tensor(Float32Array.of(0.5, -0.25), [2]);
        E.runKernel('sumSquares', [x, 2, acc], 2);
        const words = Int32Array.from(await acc.read());
        [x, acc].forEach((v) => v.dispose());
        return new Float64Array(words.buffer)[0];
      });
      const want = start + 0.3125;
      assert.ok(Math.abs(got - want) <= 1.2e-7 * Math.abs(want), `start ${start}: got ${got}, want ${want}`);
    }
  });

  // Ops that also run elementwise kernels (copies, binary, unary): their checks run once those
  // have WGSL versions.
  test('composites: mean, layer norm, and the max / sum gradients', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const why = missingKernels('copyStrided', 'binary', 'unary', 'fill');
    if (why) return t.skip(why);
    for (const shape of [[3, 17], [5, 300]]) {
      await matchesWasm(`layerNorm ${shape}`, () => {
        const x = randTensor(12, shape, -2, 2, true);
        const w = randTensor(13, [shape[1]], 0.5, 1.5, true);
        const b = randTensor(14, [shape[1]], -1, 1, true);
        const y = E.layerNorm(x, w, b);
        return [y, ...E.gradients([y], [x, w, b], [randTensor(15, shape)])];
      }, 1e-4, gpu); // rsqrt of a float32 variance, and sums in another order
      await matchesWasm(`max/sum grads ${shape}`, () => {
        const x = E.tensor(Float32Array.from({ length: E.sizeOf(shape) }, (_, i) => (i * 7) % 11), shape);
        x.requiresGrad = true;
        const m = E.max(x, -1);
        const s = E.sum(x, 0);
        const [dm] = E.gradients([m], [x], [randTensor(16, [shape[0]])]);
        const [ds] = E.gradients([s], [x], [randTensor(17, [shape[1]])]);
        return [m, s, dm, ds, E.mean(x, -1)];
      }, SUM_TOL, gpu);
    }
  });
});
