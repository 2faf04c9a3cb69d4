/** The WebGPU backend's own mechanics: buffers, writes, reads, views, the refusal of sync reads. */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import { onBackend, webgpuBackend } from './backends.js';

let gpu: E.WebGpuBackend | string;
before(async () => (gpu = await webgpuBackend()));

describe('webgpu backend', () => {
  test('host data round-trips through GPU buffers, views included', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const g = gpu;
    await onBackend(g, async () => {
      const x = E.tensor(Float32Array.from({ length: 10 }, (_, i) => i - 3), [2, 5]);
      assert.deepEqual(Array.from(await x.read()), [-3, -2, -1, 0, 1, 2, 3, 4, 5, 6]);
      const row = E.slice(x, 0, 1, 2);
      assert.deepEqual(Array.from(await row.read()), [2, 3, 4, 5, 6]);
      assert.throws(() => x.toArray(), /webgpu backend cannot read tensors synchronously/);
      const ids = E.tensor(Int32Array.from([7, -8, 9]), [3], 'int32');
      assert.deepEqual(Array.from(await ids.read()), [7, -8, 9]);
      [row, x, ids].forEach((v) => v.dispose());
      assert.equal(g.bytesInUse, 0);
    });
  });
});
