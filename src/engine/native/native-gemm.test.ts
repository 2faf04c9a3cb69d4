import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NativeGemm, nativeSupports, type NativeRequest } from './native-gemm.js';
import { KIND_GEMM } from './native-protocol.js';

const memory = new WebAssembly.Memory({ initial: 1024, maximum: 65536, shared: true });
let gemm: NativeGemm;

/** Bump allocator over the shared memory; the odd start offset keeps pointers away from 0. */
let next = 4 * 37;
function alloc(floats: number): number {
  const ptr = next;
  next += floats * 4 + 4 * 13;
  if (next > memory.buffer.byteLength) throw new Error('test arena exhausted');
  return ptr;
}
function resetArena(): void { next = 4 * 37; }

function fillRandom(ptr: number, floats: number): void {
  const v = new Float32Array(memory.buffer, ptr, floats);
  for (let i = 0; i < floats; i++) v[i] = Math.random() * 2 - 1;
}

/** float64 reference of C[s] = op(A[s])·op(B[s]) straight from the definition. */
function reference(a: number, b: number, batch: number, m: number, k: number, n: number,
  transA: boolean, transB: boolean, bBroadcast: boolean): Float64Array {
  const A = new Float32Array(memory.buffer, a, batch * m * k);
  const B = new Float32Array(memory.buffer, b, (bBroadcast ? 1 : batch) * k * n);
  const C = new Float64Array(batch * m * n);
  for (let s = 0; s < batch; s++) {
    const ao = s * m * k, bo = bBroadcast ? 0 : s * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const x = A[ao + (transA ? p * m + i : i * k + p)];
          const y = B[bo + (transB ? j * k + p : p * n + j)];
          acc += x * y;
        }
        C[s * m * n + i * n + j] = acc;
      }
    }
  }
  return C;
}

function check(batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean,
  bBroadcast: boolean): void {
  resetArena();
  const a = alloc(batch * m * k), b = alloc((bBroadcast ? 1 : batch) * k * n), c = alloc(batch * m * n);
  fillRandom(a, batch * m * k);
  fillRandom(b, (bBroadcast ? 1 : batch) * k * n);
  new Float32Array(memory.buffer, c, batch * m * n).fill(NaN); // every output must be written
  gemm.matmul(a, b, c, batch, m, k, n, transA, transB, bBroadcast);
  const want = reference(a, b, batch, m, k, n, transA, transB, bBroadcast);
  const got = new Float32Array(memory.buffer, c, batch * m * n);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  const tol = 1e-4 * Math.max(scale, 1e-6);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol)) {
      assert.fail(`batch=${batch} m=${m} k=${k} n=${n} tA=${transA} tB=${transB} bcast=${bBroadcast}: ` +
        `C[${i}] = ${got[i]}, want ${want[i]} (tol ${tol})`);
    }
  }
}

describe('NativeGemm (onnxruntime-node in a worker)', () => {
  before(() => { gemm = NativeGemm.create(memory, 2); });
  after(() => { gemm.close(); });

  const shapes: ReadonlyArray<readonly [number, number, number]> = [
    [1, 1, 1], [3, 17, 65], [17, 65, 3], [65, 3, 17], [1, 1000, 3], [1000, 17, 1], [65, 1000, 17], [17, 1, 1000],
    [600, 9, 3000], // wide output: the worker cuts it into row slabs (256, 256, 88 rows)
  ];
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`2-D products, transA=${transA} transB=${transB}`, () => {
        for (const [m, k, n] of shapes) check(1, m, k, n, transA, transB, false);
      });
      it(`batched products, transA=${transA} transB=${transB}, with and without broadcast B`, () => {
        assert.ok(nativeSupports(3, transA, transB, true));
        for (const [m, k, n] of [[17, 65, 3], [3, 17, 65], [1, 1, 1]] as const) {
          check(3, m, k, n, transA, transB, false);
          check(3, m, k, n, transA, transB, true);
        }
      });
    }
  }

  it('handles empty products (k = 0 gives zeros, m = 0 writes nothing)', () => {
    resetArena();
    const c = alloc(6);
    new Float32Array(memory.buffer, c, 6).fill(7);
    gemm.matmul(0, 0, c, 1, 2, 0, 3, false, false, false);
    assert.deepEqual([...new Float32Array(memory.buffer, c, 6)], [0, 0, 0, 0, 0, 0]);
    gemm.matmul(0, 0, c, 1, 0, 5, 3, false, false, false);
  });

  it('keeps working after the memory grows (data past the old end)', () => {
    const oldBytes = memory.buffer.byteLength;
    memory.grow(64);
    next = oldBytes + 4 * 5;
    const m = 33, k = 20, n = 9;
    const a = alloc(m * k), b = alloc(k * n), c = alloc(m * n);
    fillRandom(a, m * k);
    fillRandom(b, k * n);
    gemm.matmul(a, b, c, 1, m, k, n, false, false, false);
    const want = reference(a, b, 1, m, k, n, false, false, false);
    const got = new Float32Array(memory.buffer, c, m * n);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4 * 20);
  });

  it('rejects bad shapes and pointers with a message naming them', () => {
    assert.throws(() => gemm.matmul(0, 0, 0, 1, 2.5, 3, 4, false, false, false), /m must be .*m=2\.5 k=3 n=4/);
    const end = memory.buffer.byteLength;
    assert.throws(() => gemm.matmul(end - 8, 0, 0, 1, 4, 4, 4, false, false, false),
      /A \[1,4,4\] at byte \d+ does not fit.*batch=1 m=4 k=4 n=4/);
    assert.throws(() => gemm.matmul(0, 2, 0, 1, 4, 4, 4, false, false, false), /B \[1,4,4\] at byte 2/);
  });

  it('surfaces errors thrown inside the worker, then keeps serving', () => {
    // post() is private: reach past validation to make the worker itself fail.
    const raw = gemm as unknown as { post(r: NativeRequest): void };
    const bad: NativeRequest = { kind: KIND_GEMM, transA: false, transB: false, batch: 1, m: -1, k: 2, n: 2, a: 0, b: 0, c: 0 };
    assert.throws(() => raw.post(bad), /NativeGemm: .*RangeError.*request Gemm batch=1 m=-1/s);
    check(1, 5, 6, 7, false, false, false);
  });

  it('refuses a non-shared memory', () => {
    assert.throws(() => NativeGemm.create(new WebAssembly.Memory({ initial: 1 }), 1), /shared/);
  });
});
