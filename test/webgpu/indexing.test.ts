/**
 * The WGSL gathers and scatter-adds (src/engine/backend/webgpu/kernels/indexing.ts) against
 * WebAssembly. Most checks call the kernels with the arguments the ops take / gather form
 * (numIdx = ids.size, rowLen = table.size / rows; rows, cols, k of the last axis), so that dx can
 * start non-zero (the kernels add into it), tables can be int32 and every buffer a view at an
 * offset; the last test runs the ops and their gradients.
 */
import { before, describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { matchesWasm, webgpuBackend } from './backends.js';
import { missingKernels, randTensor, uniform } from './gpu-inputs.js';
import { Rng } from '../check.js';

let gpu: E.WebGpuBackend | string;
before(async () => (gpu = await webgpuBackend()));

/** count int32 values in [0, limit), with repeats (a seeded generator; the first two equal). */
function indices(seed: number, count: number, limit: number): Int32Array {
  const rng = new Rng(seed);
  const v = Int32Array.from({ length: count }, () => rng.int(limit));
  if (count > 1) v[1] = v[0];
  return v;
}

/** take's kernel: y = table[ids] for a [V, ...] table. */
function takeRows(table: E.Tensor, ids: Int32Array): E.Tensor {
  const rowLen = table.size / table.shape[0];
  const out = E.empty([ids.length, ...table.shape.slice(1)], table.dtype);
  E.runKernel('takeRows', [table, E.tensor(ids, [ids.length], 'int32'), out, ids.length, rowLen], out.size);
  return out;
}

// Gathers copy values and the scatter-adds add in the WebAssembly order: both exact.
const EXACT = 0;

describe('webgpu indexing', () => {
  test('takeRows: float32 and int32 tables, repeated ids', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    for (const [V, rowLen, count] of [[10, 7, 15], [50, 300, 9], [3, 1, 70], [1000, 3, 333]]) {
      await matchesWasm(`take [${V}, ${rowLen}] × ${count}`, () => [takeRows(randTensor(1, [V, rowLen], -5, 5), indices(2, count, V))], EXACT, gpu);
    }
    await matchesWasm('take [6, 2, 5]', () => [takeRows(randTensor(3, [6, 2, 5]), indices(4, 11, 6))], EXACT, gpu);
    await matchesWasm('take from an int32 table', () => {
      const table = E.tensor(Int32Array.from({ length: 40 }, (_, i) => (i * 2654435761) | 0), [8, 5], 'int32');
      return [takeRows(table, indices(5, 13, 8))];
    }, EXACT, gpu);
  });

  test('takeRowsGrad: dx[idx[i]] += dy[i] into dx as given, repeats accumulate', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    for (const [V, rowLen, count] of [[10, 7, 15], [4, 300, 40], [2, 65, 500], [1, 1, 100]]) {
      await matchesWasm(`takeRowsGrad [${V}, ${rowLen}] × ${count}`, () => {
        // dx starts non-zero: the kernel adds into it (the op passes zeros)
        const dx = randTensor(6, [V, rowLen]);
        const dy = randTensor(7, [count, rowLen]);
        E.runKernel('takeRowsGrad', [dy, E.tensor(indices(8, count, V), [count], 'int32'), dx, count, rowLen], dy.size);
        return [dx];
      }, EXACT, gpu);
    }
  });

  test('gatherLast: y[r, j] = x[r, idx[r, j]], float32 and int32', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    for (const [rows, cols, k] of [[4, 9, 5], [3, 300, 17], [70, 5, 1], [2, 1, 6]]) {
      await matchesWasm(`gather [${rows}, ${cols}] → k = ${k}`, () => {
        const y = E.empty([rows, k]);
        const idx = E.tensor(indices(9, rows * k, cols), [rows, k], 'int32');
        E.runKernel('gatherLast', [randTensor(10, [rows, cols], -5, 5), idx, y, rows, cols, k], y.size);
        return [y];
      }, EXACT, gpu);
    }
    await matchesWasm('gather from int32', () => {
      const x = E.tensor(Int32Array.from({ length: 30 }, (_, i) => (i * 40503) ^ 0x5bd1e995), [3, 10], 'int32');
      const y = E.empty([3, 4], 'int32');
      E.runKernel('gatherLast', [x, E.tensor(indices(11, 12, 10), [3, 4], 'int32'), y, 3, 10, 4], 12);
      return [y];
    }, EXACT, gpu);
  });

  test('gatherLastGrad: dx[r, idx[r, j]] += dy[r, j] into dx as given, repeats accumulate', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    for (const [rows, cols, k] of [[4, 9, 5], [3, 300, 17], [70, 5, 1], [2, 3, 40], [130, 4, 8]]) {
      await matchesWasm(`gatherLastGrad [${rows}, ${cols}], k = ${k}`, () => {
        const dx = E.tensor(uniform(new Rng(12), rows * cols), [rows, cols]);
        const idx = E.tensor(indices(13, rows * k, cols), [rows, k], 'int32');
        E.runKernel('gatherLastGrad', [randTensor(14, [rows, k]), idx, dx, rows, cols, k], rows * k);
        return [dx];
      }, EXACT, gpu);
    }
  });

  test('views at an element offset: table, indices, outputs', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await matchesWasm('offsets', () => {
      const table = E.slice(randTensor(21, [12, 7]), 0, 2, 10); // 8 rows, 14 elements in
      const ids = E.slice(E.tensor(indices(22, 20, 8), [20], 'int32'), 0, 3, 18);
      const out = E.tensor(new Float32Array(17 * 7), [17, 7]);
      E.runKernel('takeRows', [table, ids, E.slice(out, 0, 2, 17), 15, 7], 0);
      const dx = E.tensor(new Float32Array(10 * 7), [10, 7]);
      E.runKernel('takeRowsGrad', [E.slice(out, 0, 1, 16), ids, E.slice(dx, 0, 2, 10), 15, 7], 0);
      const g = E.tensor(new Float32Array(6 * 4), [6, 4]);
      const idx = E.slice(E.tensor(indices(23, 24, 7), [6, 4], 'int32'), 0, 2, 6);
      E.runKernel('gatherLast', [E.slice(table, 0, 4, 8), idx, E.slice(g, 0, 1, 5), 4, 7, 4], 0);
      E.runKernel('gatherLastGrad', [E.slice(g, 0, 2, 6), idx, E.slice(dx, 0, 5, 9), 4, 7, 4], 0);
      return [out, dx, g];
    }, EXACT, gpu);
  });

  // The ops themselves (their gradients start from zeros: the fill kernel).
  test('take and gather ops with their gradients', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const why = missingKernels('fill', 'copyStrided');
    if (why) return t.skip(why);
    await matchesWasm('take, gather', () => {
      const table = randTensor(15, [10, 7], -1, 1, true);
      const e = E.take(table, E.tensor(indices(16, 12, 10), [3, 4], 'int32'));
      const x = randTensor(17, [5, 9], -1, 1, true);
      const g = E.gather(x, E.tensor(indices(18, 15, 9), [5, 3], 'int32'), -1);
      const [dt] = E.gradients([e], [table], [randTensor(19, [3, 4, 7])]);
      const [dx] = E.gradients([g], [x], [randTensor(20, [5, 3])]);
      return [e, g, dt, dx];
    }, EXACT, gpu);
  });
});
