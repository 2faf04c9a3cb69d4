/** Kernel forwards against the float64 reference over awkward sizes, and thread-count parity. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as E from '../src/engine/index.js';
import * as R from './reference.js';
import { assertBitIdentical, assertClose, assertCloseScaled, Rng, toND, toTensor, values } from './check.js';
import type { NDArray } from './reference.js';

/**
 * Thread-pool checks run in a child process (this file, with ENGINE_TEST_CHILD set): a pool that
 * stops responding blocks its thread for good, and must fail the test rather than hang the suite.
 */
const CHILD = process.env.ENGINE_TEST_CHILD;
const suite = (CHILD ? () => undefined : describe) as typeof describe;
const SIZES = [1, 3, 17, 63, 65, 1000];
const rng = new Rng(99);
const F32_EPS = 2 ** -23;

/** Runs an engine op on tensors made from `inputs` and returns its output as float64. */
function run(fn: (...ts: E.Tensor[]) => E.Tensor, ...inputs: (NDArray | E.Tensor)[]): NDArray {
  return E.tidy(() => E.noGrad(() => toND(fn(...inputs.map((x) => (x instanceof E.Tensor ? x : toTensor(x)))))));
}

suite('unary kernels', () => {
  const domains: Record<R.UnaryName, [number, number]> = {
    neg: [-10, 10], exp: [-20, 20], log: [1e-3, 100], sqrt: [0, 100], rsqrt: [1e-3, 100], tanh: [-10, 10],
    relu: [-5, 5], gelu: [-8, 8], geluTanh: [-8, 8], sigmoid: [-30, 30], abs: [-5, 5], square: [-30, 30],
    erf: [-5, 5], reciprocal: [0.01, 100], step: [-1, 1],
  };
  for (const name of Object.keys(domains) as R.UnaryName[]) {
    test(name, () => {
      for (const n of SIZES) {
        const x = rng.array([n], ...domains[name]);
        const f = E[name] as (t: E.Tensor) => E.Tensor;
        assertClose(run(f, x), R.unary(name, x), { rtol: 1e-5, atol: 1e-6 }, `${name} n=${n}`);
      }
    });
  }
  test('scalar ops', () => {
    for (const n of SIZES) {
      const x = rng.array([n], 0, 4);
      assertClose(run((t) => E.addScalar(t, -1.25), x), R.addScalar(x, -1.25), { rtol: 1e-6 }, `addScalar n=${n}`);
      assertClose(run((t) => E.mulScalar(t, 3.5), x), R.mulScalar(x, 3.5), { rtol: 1e-6 }, `mulScalar n=${n}`);
      assertClose(run((t) => E.powScalar(t, 1.7), x), R.powScalar(x, 1.7), { rtol: 1e-5 }, `powScalar n=${n}`);
    }
  });
  test('integer powers of negative numbers (PyTorch: (−2)³ = −8)', () => {
    const x = R.nd([6], [-2, -1.5, -0.5, 0, 0.5, 3]);
    assertClose(run((t) => E.powScalar(t, 2), x), R.powScalar(x, 2), {}, 'powScalar 2');
    assertClose(run((t) => E.powScalar(t, 3), x), R.powScalar(x, 3), {}, 'powScalar 3');
    assertClose(run(E.pow, x, R.nd([1], [2])), R.powScalar(x, 2), {}, 'pow(x, 2)');
  });
  test('extreme inputs saturate instead of producing NaN', () => {
    const x = R.nd([8], [-1000, -100, -20, -0, 0, 20, 100, 1000]);
    for (const name of ['exp', 'tanh', 'sigmoid', 'gelu', 'geluTanh', 'erf', 'relu'] as const) {
      const f = E[name] as (t: E.Tensor) => E.Tensor;
      assertClose(run(f, x), R.map(R.unary(name, x), Math.fround), { rtol: 1e-6, atol: 1e-30 }, `${name} at extremes`);
    }
    assertClose(run(E.log, R.nd([2], [0, Infinity])), [-Infinity, Infinity], {}, 'log at 0 and ∞');
    assertClose(run(E.exp, R.nd([2], [-Infinity, Infinity])), [0, Infinity], {}, 'exp at ±∞');
  });
});

suite('binary kernels', () => {
  const names = Object.keys(R.binaryFns) as R.BinaryName[];
  const sample = (name: R.BinaryName, shape: number[]) => (name === 'pow' ? rng.array(shape, 0.1, 3) : rng.array(shape, -3, 3));
  /** b equal to a in about a third of the elements, so the comparisons see ties. */
  const withTies = (a: NDArray, b: NDArray) => R.zip(a, b, (x, y) => (rng.next() < 0.33 ? x : y));
  for (const name of names) {
    test(name, () => {
      const f = E[name] as (a: E.Tensor, b: E.Tensor) => E.Tensor;
      const tol = { rtol: name === 'pow' ? 1e-5 : 1e-6, atol: 1e-30 };
      for (const n of SIZES) {
        const a = sample(name, [3, n]);
        const b = withTies(a, sample(name, [3, n]));
        assertClose(run(f, a, b), R.binary(name, a, b), tol, `${name} [3,${n}] same shape`);
        const row = sample(name, [n]);
        assertClose(run(f, a, row), R.binary(name, a, row), tol, `${name} [3,${n}] with [${n}]`);
        const col = sample(name, [3, 1]);
        assertClose(run(f, col, a), R.binary(name, col, a), tol, `${name} [3,1] with [3,${n}]`);
        const at = sample(name, [n, 3]);
        assertClose(run((x, y) => f(E.transpose(x), y), at, b), R.binary(name, R.transpose(at), b), tol, `${name} transposed view`);
        const big = sample(name, [2, n, 5]);
        const c2 = sample(name, [n, 1]);
        assertClose(run((x, y) => f(E.slice(E.permute(x, [2, 1, 0]), 0, 1, 4), y), big, c2),
          R.binary(name, R.slice(R.permute(big, [2, 1, 0]), 0, 1, 4), c2), tol, `${name} sliced permuted view with [${n},1]`);
      }
    });
  }
  test('where', () => {
    for (const n of SIZES) {
      const c = R.map(rng.array([n, 1]), (v) => (v > 0 ? 1 : 0));
      const a = rng.array([2, n, 3]);
      const b = rng.array([3]);
      assertClose(run(E.where, c, a, b), R.where(c, a, b), { rtol: 0, atol: 0 }, `where n=${n}`);
    }
  });
});

suite('reduction kernels', () => {
  for (const name of ['sum', 'mean', 'max', 'min'] as const) {
    test(name, () => {
      const tol = { rtol: name === 'sum' || name === 'mean' ? 1e-5 : 0, atol: 1e-30 };
      for (const n of SIZES) {
        const x = rng.array([3, n, 5], 0.5, 2); // positive: no cancellation, relative error is meaningful
        for (const axes of [undefined, 0, 1, 2, [0, 1], [1, 2], [0, 2]]) {
          assertClose(run((t) => E[name](t, axes), x), R[name](x, axes), tol, `${name} [3,${n},5] axes ${JSON.stringify(axes)}`);
        }
        assertClose(run((t) => E[name](E.transpose(t, 0, 1), -1), x), R[name](R.transpose(x, 0, 1), -1), tol, `${name} of transpose`);
      }
    });
  }
  test('100000-element sum is accurate against float64', () => {
    for (const [label, lo, hi] of [['positive', 0, 1], ['offset', 1000, 1001]] as const) {
      const x = rng.array([100000], lo, hi);
      const exact = x.data.reduce((s, v) => s + v, 0);
      const got = run((t) => E.sum(t), x).data[0];
      assert.ok(Math.abs(got - exact) / exact < 1e-6, `${label}: sum ${got}, float64 ${exact}, relative error ${Math.abs(got - exact) / exact}`);
      const cols = run((t) => E.sum(E.reshape(t, [1000, 100]), 0), x);
      assertClose(cols, R.sum(R.reshape(x, [1000, 100]), 0), { rtol: 2e-6 }, `${label}: column sums over 1000 rows`);
    }
  });
});

suite('softmax kernels', () => {
  for (const name of ['softmax', 'logSoftmax'] as const) {
    test(name, () => {
      for (const n of SIZES) {
        const x = rng.array([5, n], -20, 20);
        assertClose(run((t) => E[name](t), x), R[name](x), { rtol: 1e-5, atol: 1e-7 }, `${name} [5,${n}]`);
        const shifted = R.map(R.addScalar(x, 1000), Math.fround); // stability: no overflow for large logits
        assertClose(run((t) => E[name](t), shifted), R[name](shifted), { rtol: 1e-5, atol: 1e-6 }, `${name} [5,${n}] + 1000`);
      }
    });
  }
  test('layerNorm rows', () => {
    for (const n of SIZES.filter((s) => s > 1)) {
      const [x, w, b] = [R.addScalar(rng.array([4, n], -3, 3), 5), rng.array([n]), rng.array([n])];
      assertCloseScaled(run((t, u, v) => E.layerNorm(t, u, v), x, w, b), R.layerNorm(x, w, b), 1e-5, `layerNorm [4,${n}]`);
    }
  });
});

suite('matmul kernel', () => {
  /** |C − C_ref| ≤ 2k·eps·(|A|·|B|), the classical bound for any summation order. */
  function checkMatmul(a: NDArray, b: NDArray, opts: { transA?: boolean; transB?: boolean }, label: string, ref?: NDArray): void {
    const got = run((x, y) => E.matmul(x, y, opts), a, b);
    const want = ref ?? R.matmul(a, b, opts);
    const bound = R.matmul(R.map(a, Math.abs), R.map(b, Math.abs), opts);
    const k = opts.transA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
    assert.deepEqual(got.shape, want.shape, `${label}: shape`);
    for (let i = 0; i < want.data.length; i++) {
      const allowed = 2 * k * F32_EPS * bound.data[i] + 1e-30;
      if (!(Math.abs(got.data[i] - want.data[i]) <= allowed)) {
        assert.fail(`${label}: element ${i} is ${got.data[i]}, expected ${want.data[i]} (allowed ${allowed})`);
      }
    }
  }
  const dims = [1, 3, 17, 63, 65];
  test('all m, k, n in {1, 3, 17, 63, 65}, cycling transposes', () => {
    let c = 0;
    for (const m of dims) for (const k of dims) for (const n of dims) {
      const transA = (c & 1) === 1;
      const transB = (c & 2) === 2;
      c++;
      const a = rng.array(transA ? [k, m] : [m, k]);
      const b = rng.array(transB ? [n, k] : [k, n]);
      checkMatmul(a, b, { transA, transB }, `m=${m} k=${k} n=${n} transA=${transA} transB=${transB}`);
    }
  });
  test('batched with broadcast batch dims', () => {
    checkMatmul(rng.array([2, 1, 17, 65]), rng.array([3, 65, 63]), {}, '[2,1,17,65]·[3,65,63]');
    checkMatmul(rng.array([3, 63, 17]), rng.array([65, 63]), { transA: true, transB: true }, '[3,63,17]ᵀ·[65,63]ᵀ');
  });
  test('one large product (1000 × 300 × 200, K over one cache block)', () => {
    const [m, k, n] = [1000, 300, 200];
    const a = rng.array([m, k]);
    const b = rng.array([n, k]);
    const ref = R.nd([m, n]);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let l = 0; l < k; l++) s += a.data[i * k + l] * b.data[j * k + l];
      ref.data[i * n + j] = s;
    }
    const got = run((x, y) => E.matmul(x, y, { transB: true }), a, b);
    assertCloseScaled(got, ref, 1e-5, 'large matmul');
  });
});

suite('conv kernel', () => {
  test('depthwiseConv1d forward over sequence lengths and kernel sizes', () => {
    for (const n of SIZES) for (const K of [1, 3, 5, 7]) {
      const d = n === 1000 ? 2 : 5;
      const x = rng.array([2, 3, n, d]);
      const w = rng.array([3, 1, K, 1]);
      assertCloseScaled(run(E.depthwiseConv1d, x, w), R.depthwiseConv1d(x, w), 1e-5, `conv n=${n} K=${K}`);
    }
  });
});

suite('thread-count parity', () => {
  test('threads 1, 2 and 3 give bit-identical results, forward and backward', () => runChild('parity'));
  test('thread-count changes followed at once by parallel kernels do not hang', () => runChild('restarts'));
});

function runChild(mode: string): void {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], {
    env: { ...process.env, ENGINE_TEST_CHILD: mode }, encoding: 'utf8', timeout: 120_000, // generous: a loaded 2-core machine is slow, a hang is forever
  });
  const output = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-15).join('\n');
  if (r.signal || r.error) assert.fail(`${mode}: child did not finish within 120 s (${r.signal ?? r.error}); the kernel pool hung\n${output}`);
  assert.equal(r.status, 0, `${mode} failed:\n${output}`);
}

function parity(): void {
  const r = new Rng(7);
  const ids = r.ints([4096], 500); // many repeated rows: a racy scatter-add would show
  const inputs = {
    big: r.array([300, 400]), row: r.array([400]), a: r.array([2, 100, 130]), b: r.array([130, 90]),
    kA: r.array([64, 600]), kB: r.array([600, 72]), x4: r.array([2, 4, 200, 64]), w4: r.array([4, 1, 5, 1]),
    table: r.array([500, 32]), logits: r.array([256, 300], -5, 5), drop: r.array([70001]),
  };
  const cot = r.randn([4096, 32]);
  const compute = (): Float32Array[] => E.tidy(() => {
    const t = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, toTensor(v)])) as Record<keyof typeof inputs, E.Tensor>;
    for (const k of ['big', 'a', 'b', 'x4', 'w4', 'table', 'logits', 'drop'] as const) t[k].requiresGrad = true;
    const outs: E.Tensor[] = [
      E.gelu(t.big), E.exp(E.transpose(t.big)), E.add(t.big, t.row), E.mul(E.transpose(t.big), E.transpose(t.big)),
      E.sum(t.big), E.sum(t.big, -1), E.sum(t.big, 0), E.max(t.big, -1), E.mean(E.reshape(t.big, [300, 20, 20]), 1),
      E.softmax(t.logits), E.logSoftmax(t.logits), E.layerNorm(t.logits),
      E.matmul(t.a, t.b), E.matmul(t.a, t.a, { transA: true }), E.matmul(t.kA, t.kB), E.matmul(t.kB, t.kA, { transA: true, transB: true }),
      E.depthwiseConv1d(t.x4, t.w4), E.dropout(t.big, 0.25, 11), E.rand([100000], 3),
    ];
    const loss = E.add(E.add(E.sum(E.mul(E.softmax(t.logits), t.logits)), E.sum(E.square(E.matmul(t.a, t.b)))),
      E.add(E.sum(E.depthwiseConv1d(t.x4, t.w4)), E.sum(E.mul(E.layerNorm(t.big), t.row))));
    // dropout's gradient reads its mask bits: 70001 elements end in a partial word, past the threads' 64-element shares
    const dropped = E.sum(E.mul(E.dropout(t.drop, 0.3, 12), E.square(t.drop)));
    const gs = E.gradients([E.add(loss, dropped)], [t.logits, t.a, t.b, t.x4, t.w4, t.big, t.drop]);
    const emb = E.take(t.table, toTensor(R.reshape(ids, [64, 64]), 'int32'));
    const [gTable] = E.gradients([emb], [t.table], [toTensor(R.reshape(cot, [64, 64, 32]))]);
    return [...outs, ...gs, gTable].map(values);
  });
  // First the WebAssembly GEMM everywhere, then the default choice (native GEMM for large products where available).
  for (const gemm of ['wasm', 'auto'] as const) {
    assert.equal(E.backend().bytesInUse, 0, 'no tensors alive before switching GEMM');
    E.configureEngine({ gemm, threads: 1 });
    const keptAcross = E.tensor([1, 2, 3]);
    const base = compute();
    // the scatter-add of take's gradient is also checked against the reference
    assertClose(base[base.length - 1], takeGradReference(inputs.table.shape, ids, cot), { rtol: 1e-5, atol: 1e-5 }, 'take gradient');
    for (const threads of [2, 3]) {
      E.configureEngine({ threads });
      assert.equal(E.backend().threads, threads);
      const got = compute();
      got.forEach((g, i) => assertBitIdentical(g, base[i], `gemm=${gemm} threads=${threads}, output ${i}`));
      assert.deepEqual([...keptAcross.toArray()], [1, 2, 3], 'tensors survive a thread-count change');
    }
    keptAcross.dispose();
  }
}

/** Restarts the pool (new thread count) and immediately runs a parallel kernel, many times. */
function restarts(): void {
  const x = E.rand([300, 400], 1); // 120000 elements: above the pool's parallel threshold
  const expected = values(E.gelu(x));
  for (let i = 0; i < 40; i++) {
    E.configureEngine({ threads: 2 + (i % 2) });
    assertBitIdentical(values(E.tidy(() => E.gelu(x))), expected, `restart ${i}`);
  }
  x.dispose();
}

if (CHILD === 'parity') parity();
if (CHILD === 'restarts') restarts();

function takeGradReference(shape: number[], ids: NDArray, cot: NDArray): Float64Array {
  const [, cols] = shape;
  const out = new Float64Array(R.sizeOf(shape));
  ids.data.forEach((id, i) => {
    for (let c = 0; c < cols; c++) out[id * cols + c] += cot.data[i * cols + c];
  });
  return out;
}
