/**
 * The WGSL depthwise convolution and landmark pooling (src/engine/backend/webgpu/kernels/conv.ts,
 * segments.ts) against WebAssembly, through the ops and their gradients: depthwiseConv1d with
 * K = 3 and K = 33 (the Nyströmformer default) on short sequences, segmentMeans with m dividing n
 * and not.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import { segmentBounds, segmentMeans, segmentMeansAdjoint } from '../../src/attention/landmarks.js';
import { readValues } from '../check.js';
import { matchesWasm, webgpuBackend } from './backends.js';
import { randTensor } from './gpu-inputs.js';

let gpu: E.WebGpuBackend | string;
before(async () => (gpu = await webgpuBackend()));

// Conv: float32 products summed in the same tap order, but WebAssembly may fuse multiply-adds
// and sums dw's long dot products with f64 block totals: a few float32 roundings.
const CONV_TOL = 1e-5;
// Segment means: the same row order; a division that may differ by an ulp on the GPU.
const MEAN_TOL = 1e-6;

describe('webgpu depthwise conv', () => {
  // [B, H, n, d, K, weight as [H, 1, K, 1] or [H, K]]
  const cases: [number, number, number, number, number, boolean][] = [
    [2, 3, 5, 3, 3, true], [1, 2, 40, 16, 3, false], [2, 3, 5, 3, 33, true], [2, 3, 40, 16, 33, true],
    [1, 1, 17, 1, 33, false], [1, 2, 1, 5, 3, true], [3, 2, 70, 7, 5, true],
  ];
  for (const [B, H, n, d, K, full] of cases) {
    test(`x [${B}, ${H}, ${n}, ${d}], K = ${K}: forward, dx and dw`, async (t) => {
      if (typeof gpu === 'string') return t.skip(gpu);
      await matchesWasm(`dwconv ${[B, H, n, d, K]}`, () => {
        const x = randTensor(1, [B, H, n, d], -1, 1, true);
        const w = randTensor(2, full ? [H, 1, K, 1] : [H, K], -1, 1, true);
        const y = E.depthwiseConv1d(x, w);
        const [dx, dw] = E.gradients([y], [x, w], [randTensor(3, [B, H, n, d])]);
        return [y, dx, dw];
      }, CONV_TOL, gpu);
    });
  }

  test('x a view at an element offset', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await matchesWasm('dwconv of a view', () => {
      const x = E.slice(randTensor(7, [3, 2, 11, 5]), 0, 1, 3);
      x.requiresGrad = true;
      const w = E.slice(randTensor(8, [3, 33]), 0, 1, 3);
      w.requiresGrad = true;
      const y = E.depthwiseConv1d(x, w);
      return [y, ...E.gradients([y], [x, w], [E.slice(randTensor(9, [3, 2, 11, 5]), 0, 0, 2)])];
    }, CONV_TOL, gpu);
  });

  test('gradient of the weight alone (no dx dispatched)', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await matchesWasm('dw only', () => {
      const x = randTensor(4, [2, 2, 9, 4]);
      const w = randTensor(5, [2, 1, 33, 1], -1, 1, true);
      const y = E.depthwiseConv1d(x, w);
      return [y, ...E.gradients([y], [w], [randTensor(6, [2, 2, 9, 4])])];
    }, CONV_TOL, gpu);
  });
});

describe('webgpu segment means', () => {
  // [B, H, n, d, m]
  const cases = [[2, 2, 37, 3, 8], [1, 2, 40, 16, 8], [2, 1, 37, 5, 1], [1, 1, 5, 4, 5], [2, 3, 64, 7, 12], [1, 1, 300, 2, 64]];
  for (const [B, H, n, d, m] of cases) {
    test(`x [${B}, ${H}, ${n}, ${d}], m = ${m}: forward and gradient`, async (t) => {
      if (typeof gpu === 'string') return t.skip(gpu);
      await matchesWasm(`segmentMeans ${[B, H, n, d, m]}`, () => {
        const x = randTensor(7, [B, H, n, d], -1, 1, true);
        const y = segmentMeans(x, m);
        const [dx] = E.gradients([y], [x], [randTensor(8, [B, H, m, d])]);
        return [y, dx];
      }, MEAN_TOL, gpu);
    });
  }

  test('x a view at an element offset', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await matchesWasm('segmentMeans of a view', () => {
      const x = E.slice(randTensor(10, [3, 2, 37, 3]), 0, 1, 3);
      x.requiresGrad = true;
      const y = segmentMeans(x, 8);
      return [y, ...E.gradients([y], [x], [E.slice(randTensor(11, [3, 2, 8, 3]), 0, 1, 3)])];
    }, MEAN_TOL, gpu);
  });

  test('the adjoint with an accumulator: the bits of add(acc, adjoint), on WebAssembly and WebGPU', async (t) => {
    const both = () => {
      const dy = randTensor(12, [2, 3, 8, 5]), acc = randTensor(13, [2, 3, 37, 5]);
      return [segmentMeansAdjoint(dy, 37, acc), E.add(acc, segmentMeansAdjoint(dy, 37))];
    };
    const [fused, separate] = await readValues(both);
    assert.deepEqual(fused, separate);
    E.tidy(() => assert.throws(() => segmentMeansAdjoint(E.zeros([1, 1, 4, 2]), 9, E.zeros([1, 1, 8, 2])),
      /segmentMeansAdjoint: acc \[1, 1, 8, 2\] is not \[1, 1, 9, 2\]/));
    if (typeof gpu === 'string') return t.skip(gpu);
    const [gpuFused, gpuSeparate] = await matchesWasm('adjoint + acc', both, MEAN_TOL, gpu);
    assert.deepEqual(gpuFused, gpuSeparate);
  });

  test('segments follow segmentBounds when m does not divide n (n = 37, m = 8)', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    // x[i, 0] = i: each mean is its segment's middle row, each gradient row 1 / |segment|
    const [y, dx] = await matchesWasm('bounds', () => {
      const x = E.tensor(Float32Array.from({ length: 37 }, (_, i) => i), [1, 1, 37, 1]);
      x.requiresGrad = true;
      const y = segmentMeans(x, 8);
      const [dx] = E.gradients([y], [x], [E.tensor(new Float32Array(8).fill(1), [1, 1, 8, 1])]);
      return [y, dx];
    }, MEAN_TOL, gpu);
    const bounds = segmentBounds(37, 8);
    assert.deepEqual(Array.from(y), bounds.map(([s, e]) => (s + e - 1) / 2));
    bounds.forEach(([s, e]) => {
      for (let i = s; i < e; i++) assert.ok(Math.abs(dx[i] - 1 / (e - s)) <= 1e-7, `dx[${i}] = ${dx[i]}, segment [${s}, ${e})`);
    });
  });
});
