/**
 * The WGSL 8-bit kernels (src/engine/backend/webgpu/kernels/quantized.ts) against WebAssembly,
 * through linearQ8: the integer sums are exact on both; a code may differ by one where WGSL's
 * division rounds the row's scale differently, which moves an output by about one step.
 */
import { before, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { matchesWasm, webgpuBackend } from './backends.js';
import { Rng } from '../rng.js';

let gpu: E.WebGpuBackend | string;
before(async () => (gpu = await webgpuBackend()));

const TOL = 2e-3;

for (const [rows, k, n, withBias] of [[1, 1, 1, true], [3, 17, 5, false], [9, 64, 66, true], [33, 300, 40, true]] as const) {
  test(`linearQ8 [${rows}, ${k}] → ${n}${withBias ? ' + bias' : ''}`, async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const rng = new Rng(rows * 1000 + k);
    const x = Float32Array.from({ length: rows * k }, () => rng.normal());
    const { codes, scale } = E.quantizeWeights(Float32Array.from({ length: n * k }, () => rng.normal()), n, k);
    const bias = Float32Array.from({ length: n }, () => rng.normal());
    await matchesWasm(`linearQ8 ${[rows, k, n]}`, () => E.noGrad(() => {
      const w = E.q8Weights(codes, scale, n, k);
      return [E.linearQ8(E.tensor(x, [rows, k]), w, withBias ? E.tensor(bias, [n]) : null)];
    }), TOL, gpu);
  });
}
