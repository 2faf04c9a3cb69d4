/** console.log(tensor) in Node: shape, dtype and the first values, through the inspect hook (no node:util in the engine). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { permute, randn, Tensor } from '../src/engine/index.js';

test('a tensor prints its shape, dtype and first values; a view its own layout; a disposed one says so', () => {
  const t = Tensor.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [2, 3]);
  assert.equal(inspect(t), 'Tensor [2, 3] float32 [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]');
  const view = permute(t, [1, 0]);
  assert.equal(inspect(view), 'Tensor [3, 2] float32 [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]');
  assert.equal(inspect({ out: Tensor.from([1, 2, 3], [3], 'int32') }), '{ out: Tensor [3] int32 [1, 2, 3] }');
  assert.equal(inspect(Tensor.from([5], [])), 'Tensor [] float32 5');
  assert.equal(inspect(Tensor.from([], [0, 4])), 'Tensor [0, 4] float32 []');
  // large: three entries per leading axis, six values per row, then '…'
  const big = randn([2, 16, 768], 1);
  const text = inspect(big);
  assert.match(text, /^Tensor \[2, 16, 768\] float32 \[\[\[(-?[\d.e-]+, ){6}…\], \[.*\], \[.*\], …\], \[\[.*\], …\]\]$/);
  assert.ok(text.length < 600, `${text.length} characters`);
  t.dispose();
  assert.equal(inspect(t), 'Tensor [2, 3] float32 (disposed)');
  for (const x of [view, big]) x.dispose();
});
