/**
 * The WebGPU GEMM against the WebAssembly one: E.matmul over plain, transposed, sliced, batched
 * and broadcast operands (sizes on and off the 64×64×16 tiles), the backend's matmul with alpha
 * and beta (beta = 0 ignores NaN in C, alpha = 0 ignores NaN in A, k = 0), the 'gemm' kernel
 * entry with a padded C (batch and row strides of its own), and the bias row.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import { Rng } from '../check.js';
import { matchesWasm, onBackend, webgpuBackend } from './backends.js';

let gpu: E.WebGpuBackend | string;
before(async () => (gpu = await webgpuBackend()));

// float32 sums of up to 130 products, accumulated in another order (and fused or not) than
// the WebAssembly kernel's; llvmpipe stays below 3e-7, this leaves room for other GPUs.
const TOL = 2e-6;

function rand(rng: Rng, shape: readonly number[], low = -1, high = 1): E.Tensor {
  return E.tensor(Float32Array.from({ length: E.sizeOf(shape) }, () => Math.fround(rng.uniform(low, high))), shape);
}

/** fn(rng) on both backends with a fresh generator each time, the same seed. */
function compare(name: string, seed: number, fn: (rng: Rng) => E.Tensor[], tol = TOL) {
  return async (t: { skip: (m: string) => void }) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await matchesWasm(name, () => fn(new Rng(seed)), tol, gpu);
  };
}

describe('webgpu gemm', () => {
  for (const [m, k, n] of [[1, 1, 1], [3, 5, 7], [17, 33, 65], [64, 64, 64], [65, 17, 1], [1, 40, 129]]) {
    test(`matmul ${m}×${k} · ${k}×${n}`, compare(`matmul ${m}×${k}×${n}`, m * 1000 + k * 10 + n, (rng) =>
      [E.matmul(rand(rng, [m, k]), rand(rng, [k, n]))]));
  }

  test('batched matmul 2×70×130 · 2×130×50 in one dispatch', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const g = gpu;
    const before = g.dispatches;
    await matchesWasm('batched', () => {
      const rng = new Rng(7);
      return [E.matmul(rand(rng, [2, 70, 130]), rand(rng, [2, 130, 50]))];
    }, TOL, g);
    assert.equal(g.dispatches - before, 1, 'one dispatch covers every batch');
  });

  test('transposed operands: options and views', compare('transposed', 8, (rng) => {
    const a = rand(rng, [3, 33, 19]); // [batch, k, m]
    const b = rand(rng, [3, 70, 33]); // [batch, n, k]
    return [
      E.matmul(a, b, { transA: true, transB: true }),
      E.matmul(E.transpose(a), E.transpose(b)), // the same product through strided views
      E.matmul(E.transpose(rand(rng, [9, 5])), rand(rng, [9, 11])), // Aᵀ, 2-D
      E.matmul(rand(rng, [6, 9]), E.transpose(rand(rng, [67, 9]))), // Bᵀ, 2-D
    ];
  }));

  test('sliced operands: element offsets and row strides', compare('sliced', 9, (rng) => {
    const a = rand(rng, [20, 30]);
    const b = rand(rng, [40, 25]);
    // rows 3..18 and columns 5..26 of a; rows 11..33 and columns 2..24 of b
    const av = E.slice(E.slice(a, 0, 3, 18), 1, 5, 26);
    const bv = E.slice(E.slice(b, 0, 11, 32), 1, 2, 24);
    return [E.matmul(av, bv), E.matmul(E.slice(a, 0, 1, 2), E.slice(b, 0, 5, 35))];
  }));

  test('A and B views of one tensor (one buffer bound once)', compare('one buffer', 14, (rng) => {
    const x = rand(rng, [13, 30]);
    return [
      E.matmul(x, E.transpose(x)),
      E.matmul(E.slice(x, 0, 0, 4), E.transpose(E.slice(x, 0, 6, 13))), // B at an offset of its own
      E.matmul(E.transpose(E.slice(x, 1, 3, 9)), E.slice(x, 1, 10, 30), {}),
    ];
  }));

  test('an output that shares a buffer with an input is refused', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await onBackend(gpu, () => E.tidy(() => {
      const x = E.tensor(new Float32Array(16), [4, 4]);
      const spec = { batch: 1, m: 2, n: 2, k: 2, a: x, aStrides: [0, 4, 1], b: x, bStrides: [0, 4, 1] } as const;
      assert.throws(() => E.backend().matmul({ ...spec, c: E.slice(x, 0, 2, 4) }), /C shares a buffer with A or B/);
    }));
  });

  test('broadcast batches (batch stride 0)', compare('broadcast', 10, (rng) => [
    E.matmul(rand(rng, [2, 17, 9]), rand(rng, [9, 13])),
    E.matmul(rand(rng, [1, 5, 8]), rand(rng, [4, 8, 6])),
    E.matmul(rand(rng, [70, 3]), rand(rng, [2, 2, 3, 66])),
  ]));

  /** The backend's matmul on fresh tensors, C starting from `c0`. */
  function direct(rng: Rng, m: number, k: number, n: number, c0: number, alpha: number, beta: number, aNaN = false) {
    const a = rand(rng, [m, k]);
    const b = rand(rng, [k, n]);
    const c = aNaN || Number.isNaN(c0) ? E.tensor(new Float32Array(m * n).fill(c0), [m, n]) : rand(rng, [m, n]);
    const aIn = aNaN ? E.tensor(new Float32Array(m * k).fill(NaN), [m, k]) : a;
    E.backend().matmul({ batch: 1, m, n, k, a: aIn, aStrides: [0, k, 1], b, bStrides: [0, n, 1], c, alpha, beta });
    return c;
  }

  test('alpha and beta', compare('alpha, beta', 11, (rng) => [
    direct(rng, 19, 23, 70, 0, 0.5, -2),
    direct(rng, 66, 8, 5, 0, -1.5, 1),
  ]));

  test('beta = 0 ignores C (NaN there), alpha = 0 ignores A (NaN there)', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const [plain, scaled] = await matchesWasm('NaN ignored', () => {
      const rng = new Rng(12);
      return [direct(rng, 21, 17, 9, NaN, 1, 0), direct(rng, 5, 6, 7, 2, 0, 1.5, true)];
    }, TOL, gpu);
    assert.ok(plain.every(Number.isFinite));
    assert.ok(scaled.every((x) => x === 3));
  });

  test('k = 0: C = beta·C, or 0 when beta = 0', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const [scaled, zeroed] = await matchesWasm('k = 0', () => {
      const a = E.tensor(new Float32Array(1), [1]);
      const run = (beta: number, c0: number) => {
        const c = E.tensor(new Float32Array(12).fill(c0), [3, 4]);
        E.backend().matmul({ batch: 1, m: 3, n: 4, k: 0, a, aStrides: [0, 0, 1], b: a, bStrides: [0, 4, 1], c, alpha: 1, beta });
        return c;
      };
      return [run(0.5, 3), run(0, NaN)];
    }, 0, gpu);
    assert.ok(scaled.every((x) => x === 1.5));
    assert.ok(zeroed.every((x) => x === 0));
  });

  test("the 'gemm' kernel: C with its own batch and row strides, the padding untouched, with and without a bias", compare('gemm kernel', 13, (rng) => {
    const [batch, m, n, k, ldc, cBatch] = [2, 13, 70, 20, 75, 13 * 75 + 9];
    const a = rand(rng, [batch, k, m]); // used transposed: A[b][i][p] at b·k·m + p·m + i
    const b = rand(rng, [n, k]); // used transposed and broadcast: B[p][j] at j·k + p
    const bias = rand(rng, [n]);
    // Scratch for the WebAssembly kernel's packing (ignored on WebGPU): above gemmWorkBytes for k ≤ 256.
    const work = ((Math.ceil(m / 4) * 4 + Math.ceil(n / 8) * 8) * k + 32) * 4 + 128;
    return [null, bias].map((row) => {
      const c = rand(rng, [batch * cBatch]);
      E.runKernel('gemm', [batch, m, n, k, a, k * m, 1, m, b, 0, 1, k, c, cBatch, ldc, 0.75, 0.25, row, work], 2 * batch * m * n * k);
      return c;
    });
  }));

  test('matmul with a bias: add(matmul(a, b), bias), on and off the tiles, and k = 0', compare('bias', 14, (rng) => [
    E.matmul(rand(rng, [70, 33]), rand(rng, [65, 33]), { transB: true, bias: rand(rng, [65]) }),
    E.matmul(rand(rng, [3, 5, 8]), rand(rng, [8, 9]), { bias: rand(rng, [9]) }),
    E.matmul(E.zeros([4, 0]), E.zeros([0, 6]), { bias: rand(rng, [6]) }),
  ]));

  test('no GPU memory is left behind', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await onBackend(gpu, () => assert.equal((gpu as E.WebGpuBackend).bytesInUse, 0));
  });
});
