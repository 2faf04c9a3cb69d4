/**
 * randomUniform on WebGPU against WebAssembly: bit-identical (training runs must match across
 * backends), over seeds, sizes and counter offsets, including offsets near 2^32 − 1 whose counters
 * cross the 32-bit boundary (the WGSL kernel emulates 64-bit arithmetic on pairs of u32).
 */
import { before, describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { assertBitIdentical, readTensors as readAll } from '../check.js';
import { onBackend, webgpuBackend } from './backends.js';

let gpu: E.WebGpuBackend | string;
before(async () => (gpu = await webgpuBackend()));

/** randomUniform's stream (seed, offset) of n numbers, as the kernel writes it. */
function stream(n: number, seed: number, offset: number): E.Tensor {
  const t = E.empty([n]);
  E.runKernel('randomUniform', [t, n, seed, offset], n);
  return t;
}

async function sameBits(g: E.Backend, n: number, seed: number, offset: number): Promise<void> {
  const [expected] = await readAll([stream(n, seed, offset)]);
  const [got] = await onBackend(g, async () => readAll([stream(n, seed, offset)]));
  assertBitIdentical(got, expected, `randomUniform n=${n} seed=${seed} offset=${offset}`);
}

describe('webgpu randomUniform', () => {
  test('bit-identical to WebAssembly over seeds and sizes', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    for (const seed of [0, 1, -1, 42, 123456789, 0x7fffffff, -0x80000000]) {
      for (const n of [1, 63, 64, 65, 1000]) await sameBits(gpu, n, seed, 0);
    }
    await sameBits(gpu, 4099, 7, 0);
  });

  test('bit-identical at counter offsets, across the 32-bit boundary', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    // the kernel takes offset as unsigned 32-bit: −1 and 2^32 − 1 are the same offset
    const offsets = [1, 64, 1000, 2 ** 31 - 3, 2 ** 31, 2 ** 32 - 200, 2 ** 32 - 1, -1, -77];
    for (const seed of [3, -5, 987654321]) {
      for (const offset of offsets) await sameBits(gpu, 300, seed, offset);
    }
  });

  test('the public rand op matches bit for bit', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const [expected] = await readAll([E.rand([5, 41], 2024)]);
    const [got] = await onBackend(gpu, async () => readAll([E.rand([5, 41], 2024)]));
    assertBitIdentical(got, expected, 'rand([5, 41], 2024)');
  });
});
