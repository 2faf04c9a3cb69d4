/** The host streams are the kernels' streams, bit for bit, including 64-bit counter carries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniformStream } from './random-stream.js';
import { backend } from './engine.js';
import { empty } from './ops/kernel.js';
import { randn } from './ops/creation.js';

function kernelUniforms(seed: number, offset: number, n: number): Float32Array {
  const t = empty([n]);
  backend().dispatch('randomUniform', [t, n, seed, offset], n);
  const v = t.toArray() as Float32Array;
  t.dispose();
  return v;
}

test('uniformStream equals the randomUniform kernel for any seed and offset', () => {
  for (const [seed, offset, n] of [[0, 0, 1000], [1, 0, 33], [-7, 12345, 257], [2 ** 31 - 1, 2 ** 32 - 3, 64], [123, 2 ** 32 - 1, 5]]) {
    assert.deepEqual(uniformStream(seed, offset >>> 0, n), kernelUniforms(seed, offset | 0, n), `seed ${seed} offset ${offset}`);
  }
});

test('randn is seeded and standard normal', () => {
  const a = randn([20000], 5);
  const b = randn([20000], 5);
  const x = a.toArray() as Float32Array;
  assert.deepEqual(x, b.toArray());
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`);
  a.dispose();
  b.dispose();
});
