/** The asynchronous start-up path (the only one browsers have), exercised in Node. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backend, configureEngine, initEngine } from '../engine.js';
import { gelu } from '../ops/unary.js';
import { rand } from '../ops/creation.js';
import { tidy } from '../scope.js';

test('initEngine starts the pool without blocking, and every kernel thread takes part', async () => {
  let turned = false;
  setImmediate(() => (turned = true));
  const b = await initEngine({ threads: 2, gemm: 'wasm' });
  assert.ok(turned, 'the event loop ran while kernels compiled and threads started');
  assert.equal(backend(), b);
  assert.equal(b.threads, 2);
  const x = rand([400, 400], 1); // above the pool's parallel threshold
  const expected = tidy(() => gelu(x).toArray());
  const before = b.kernelShares();
  const got = tidy(() => gelu(x).toArray());
  const after = b.kernelShares();
  assert.deepEqual(after.map((n, tid) => n - before[tid]), [1, 1], 'one share each on thread 0 and thread 1');
  assert.deepEqual(got, expected);

  // A thread-count change through initEngine keeps tensors, like configureEngine's.
  const again = await initEngine({ threads: 3 });
  assert.equal(again, b);
  assert.equal(b.threads, 3);
  assert.deepEqual(tidy(() => gelu(x).toArray()), expected, 'bit-identical on 3 threads');
  assert.deepEqual(b.kernelShares(), [1, 1, 1]);
  x.dispose();

  // Changing the build starts a fresh backend; sync configuration still works afterwards.
  const simd = await initEngine({ build: 'simd' });
  assert.equal(simd.build, 'simd');
  assert.notEqual(simd, b);
  assert.equal(configureEngine({ threads: 2 }).threads, 2);
  simd.close();
});

test('concurrent initEngine calls run one after the other', async () => {
  const [a, b] = await Promise.all([initEngine({ threads: 2 }), initEngine({ threads: 3 })]);
  assert.equal(a, b);
  assert.equal(b.threads, 3);
  b.close();
});
