/**
 * The backend contract as code above it sees it: reads (sync on CPU backends, async everywhere),
 * in-place writes through assign, and kernel dispatch typed by the kernel table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import * as E from '../src/engine/index.js';

/** A backend of its own that delegates to the WebAssembly one but, like a GPU, cannot read synchronously. */
class AsyncOnly implements E.Backend {
  readonly name = 'async-only';
  readonly canReadSync = false;
  dispatched: string[] = [];
  constructor(readonly inner: E.Backend) {}
  get threads() { return this.inner.threads; }
  get bytesInUse() { return this.inner.bytesInUse; }
  get peakBytes() { return this.inner.peakBytes; }
  allocate(bytes: number) { return this.inner.allocate(bytes); }
  free(handle: E.Handle) { this.inner.free(handle); }
  resetPeak() { this.inner.resetPeak(); }
  read<D extends E.DType>(src: E.BufferRef, length: number, dtype: D) { return this.inner.read(src, length, dtype); }
  readSync(): never { throw new Error('async-only: no synchronous reads'); }
  write(dst: E.BufferRef, data: Float32Array | Int32Array) { this.inner.write(dst, data); }
  dispatch<K extends E.KernelName>(kernel: K, args: E.KernelArgs<K>, work: number) {
    this.dispatched.push(kernel);
    this.inner.dispatch(kernel, args, work);
  }
  matmul(spec: E.MatmulSpec) { this.inner.matmul(spec); }
  linearQ8(spec: E.LinearQ8Spec) { this.inner.linearQ8(spec); }
  sync() { return this.inner.sync(); }
  close() {}
}

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
  E.useBackend(new AsyncOnly(E.backend()));
  try {
    const t = E.tensor([1, 2, 3]);
    const first = E.slice(t, 0, 0, 1);
    assert.throws(() => t.toArray(), /cannot read tensors synchronously; use `await tensor.read\(\)`/);
    assert.throws(() => first.item(), /cannot read tensors synchronously/);
    assert.deepEqual(Array.from(await t.read()), [1, 2, 3]);
    assert.equal(await first.itemAsync(), 1);
    assert.match(inspect(t), /Tensor \[3\] float32 \(on async-only: await read\(\)\)/);
    [first, t].forEach((x) => x.dispose());
  } finally {
    E.useBackend(undefined);
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

test('useBackend: ops run on an installed backend through the contract alone, and back', async () => {
  const stub = new AsyncOnly(E.backend());
  E.useBackend(stub);
  try {
    const c = E.tidy(() => {
      const a = E.tensor([1, 2, 3, 4], [2, 2]);
      return E.gelu(E.add(E.matmul(a, a), E.ones([2])));
    });
    assert.deepEqual(stub.dispatched.slice(-3), ['fill', 'binary', 'unary']);
    assert.throws(() => c.toArray(), /the async-only backend cannot read tensors synchronously/);
    const got = await c.read();
    c.dispose();
    assert.ok(got.length === 4 && Math.abs(got[0] - 8) < 1e-4 && Math.abs(got[3] - 23) < 1e-4, `${got}`);
    const alive = E.tensor([1]);
    assert.throws(() => E.useBackend(undefined), /useBackend: \d+ bytes of tensors are alive on the async-only backend/);
    alive.dispose();
  } finally {
    E.useBackend(undefined);
  }
  assert.equal(E.backend(), stub.inner);
});
