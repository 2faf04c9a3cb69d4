import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, configureEngine, matmul, randn, tidy, Tensor } from '../index.js';

/** float64 reference of op(a)·op(b) for 2-D or batched 3-D row-major data. */
function reference(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Float64Array {
  const [A, B] = [a.toArray(), b.toArray()];
  const batch = a.rank === 3 ? a.shape[0] : 1;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const n = transB ? br : bc;
  const bBatch = b.rank === 3 ? br * bc : 0;
  const out = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) {
          const x = A[p * ar * ac + (transA ? t * ac + i : i * ac + t)];
          const y = B[p * bBatch + (transB ? j * bc + t : t * bc + j)];
          s += x * y;
        }
        out[(p * m + i) * n + j] = s;
      }
  return out;
}

function assertClose(got: Float32Array | Int32Array, want: Float64Array, what: string): void {
  const scale = want.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
  let worst = 0;
  got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want[i]))));
  assert.ok(worst <= 1e-5 * scale, `${what}: max error ${worst} vs scale ${scale}`);
}

test('gemm: native routes every operand layout to onnxruntime and matches float64', () => {
  const engine = configureEngine({ gemm: 'native', threads: 2 });
  const cases: [number[], number[], boolean, boolean][] = [
    [[65, 17], [17, 33], false, false],
    [[17, 65], [17, 33], true, false],
    [[65, 17], [33, 17], false, true],
    [[17, 65], [33, 17], true, true],
    [[3, 20, 9], [3, 9, 7], false, false],
    [[3, 20, 9], [9, 7], false, false], // broadcast B: batch folded into rows
    [[3, 9, 20], [7, 9], true, true],
  ];
  for (const [sa, sb, transA, transB] of cases) {
    tidy(() => {
      const a = randn(sa, 1);
      const b = randn(sb, 2);
      const before = engine.gemmCalls.native;
      const c = matmul(a, b, { transA, transB });
      assert.equal(engine.gemmCalls.native, before + 1, `${sa}×${sb} did not run natively`);
      assertClose(c.toArray(), reference(a, b, transA, transB), `native ${sa} × ${sb} transA=${transA} transB=${transB}`);
    });
  }
  configureEngine({ gemm: 'auto' });
});

test('gemm: a bias row with a native product is added after it, as a separate add would', () => {
  const engine = configureEngine({ gemm: 'native', threads: 2 });
  tidy(() => {
    const [a, b, bias] = [randn([65, 17], 1), randn([33, 17], 2), randn([33], 3)];
    const before = engine.gemmCalls.native;
    const fused = matmul(a, b, { transB: true, bias }).toArray();
    assert.equal(engine.gemmCalls.native, before + 1, 'the product did not run natively');
    assert.deepEqual(fused, add(matmul(a, b, { transB: true }), bias).toArray());
  });
  configureEngine({ gemm: 'auto' });
});

test('gemm: auto keeps small products on WebAssembly and sends large ones to native', () => {
  const engine = configureEngine({ gemm: 'auto', threads: 2 });
  tidy(() => {
    const calls = engine.gemmCalls;
    const small = calls.wasm;
    matmul(randn([64, 64], 1), randn([64, 64], 2));
    assert.equal(calls.wasm, small + 1);
    const large = calls.native;
    const a = randn([1024, 512], 3);
    const b = randn([512, 512], 4);
    const c = matmul(a, b);
    assert.equal(calls.native, large + 1);
    assertClose(c.toArray(), reference(a, b, false, false), 'auto 1024×512×512');
  });
});
