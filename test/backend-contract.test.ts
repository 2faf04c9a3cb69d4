/**
 * The backend contract as code above it sees it: reads (sync on CPU backends, async everywhere),
 * in-place writes through assign, and kernel dispatch typed by the kernel table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../src/engine/index.js';

test('read() and itemAsync() give what toArray() and item() give, views included', async () => {
  // tidy is synchronous: these tensors are disposed by hand after the awaits
  const t = E.tensor(Float32Array.from({ length: 12 }, (_, i) => i * 0.5), [3, 4]);
  const flat = E.reshape(t, [12]);
  const one = E.slice(flat, 0, 5, 6);
  const views = [t, E.transpose(t), E.slice(t, 1, 1, 3), one];
  for (const v of views) assert.deepEqual(await v.read(), v.toArray());
  assert.equal(await one.itemAsync(), one.item());
  [...views, flat].forEach((v) => v.dispose());
});

test('a backend without synchronous reads: toArray and item fail clearly, read and itemAsync work', async () => {
  const b = E.backend();
  const t = E.tensor([1, 2, 3]);
  Object.defineProperty(b, 'canReadSync', { value: false, configurable: true });
  try {
    assert.throws(() => t.toArray(), /cannot read tensors synchronously; use `await tensor.read\(\)`/);
    assert.throws(() => E.slice(t, 0, 0, 1).item(), /cannot read tensors synchronously/);
    assert.deepEqual(Array.from(await t.read()), [1, 2, 3]);
  } finally {
    Object.defineProperty(b, 'canReadSync', { value: true, configurable: true });
    t.dispose();
  }
});

test('assign writes in place: from a tensor or host values, into any view; mismatches are refused', () => {
  E.tidy(() => {
    const t = E.zeros([2, 3]);
    E.assign(E.transpose(t), E.tensor([1, 2, 3, 4, 5, 6], [3, 2]));
    assert.deepEqual(Array.from(t.toArray()), [1, 3, 5, 2, 4, 6]);
    E.assign(E.slice(t, 1, 1, 3), Float32Array.from([7, 8, 9, 10]));
    assert.deepEqual(Array.from(t.toArray()), [1, 7, 8, 2, 9, 10]);
    assert.throws(() => E.assign(t, E.zeros([3, 2])), /assign: source float32 \[3, 2\] does not match destination float32 \[2, 3\]/);
    assert.throws(() => E.assign(t, new Int32Array(6)), /6 int32 values do not fill destination float32 \[2, 3\]/);
  });
});

test('kernels are dispatched with the argument tuple the table declares', () => {
  E.tidy(() => {
    const t = E.empty([5]);
    E.runKernel('fill', [t, t.size, 2.5], t.size);
    assert.deepEqual(Array.from(t.toArray()), [2.5, 2.5, 2.5, 2.5, 2.5]);
    // Compile-time checks: these never run, and stop compiling if the table stops catching them.
    const unchecked = () => {
      // @ts-expect-error a missing argument
      E.runKernel('fill', [t, t.size], t.size);
      // @ts-expect-error a number where a buffer goes
      E.runKernel('fill', [0, t.size, 1], t.size);
      // @ts-expect-error no such kernel
      E.runKernel('fil', [t, t.size, 1], t.size);
    };
    assert.equal(typeof unchecked, 'function');
  });
});
