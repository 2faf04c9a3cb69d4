/**
 * The WebGPU elementwise kernels (src/engine/backend/webgpu/kernels/elementwise.ts) against the
 * WebAssembly ones: every unary op and its gradient, every binary op over broadcast and
 * transposed operands, where, strided copies (float32 and int32, bit for bit), fill and the casts,
 * special values (±0, ±inf, NaN, huge and tiny) included.
 *
 * Tolerances: the GPU runs the WebAssembly kernels' own float32 formulas, but a GPU may fuse a·b+c
 * and WGSL allows division and sqrt a few ulps off, so elementwise results agree to a few ulps
 * (rtol 1e-6 ≈ 8 ulps) rather than bit for bit; pow is exp(a·log x) in float32 where WebAssembly
 * rounds a float64 result: relative error about (1 + |a·log x|)·2^-23, hence its looser bounds. Moves (copies, where, fill) and casts are exact.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import { BINARY_OPS, UNARY_GRADIENT, UNARY_OPS, type BinaryOp, type UnaryOp } from '../../src/engine/backend/op-codes.js';
import { assertBitIdentical, assertClose, Rng } from '../check.js';
import * as R from '../reference.js';
import { matchesWasm, onBackend, webgpuBackend } from './backends.js';

let gpu: E.WebGpuBackend | string;
before(async () => (gpu = await webgpuBackend()));

type Arrays = (Float32Array | Int32Array)[];

/** The raw values (float32 or int32, views gathered) of fn's outputs on WebAssembly and on WebGPU. */
async function onBoth(fn: () => E.Tensor[], g: E.WebGpuBackend): Promise<[Arrays, Arrays]> {
  const read = async () => {
    const ts = E.tidy(fn);
    const out: Arrays = [];
    for (const t of ts) out.push(await t.read());
    ts.forEach((t) => t.dispose());
    return out;
  };
  const expected = await read();
  const got = await onBackend(g, async () => {
    const out = await read();
    assert.equal(g.bytesInUse, 0, 'tensors left on the GPU');
    return out;
  });
  return [expected, got];
}

/** Same values on both backends within |diff| ≤ atol + rtol·|wasm| per element (NaN = NaN, ±inf exact). */
async function closeEverywhere(name: string, fn: () => E.Tensor[], rtol: number, atol: number, g: E.WebGpuBackend) {
  const [expected, got] = await onBoth(fn, g);
  expected.forEach((e, k) => assertClose(got[k], e, { rtol, atol }, `${name}: output ${k}`));
}

/** Bit-identical outputs (float32 NaN payloads aside; int32 exactly). */
async function identical(name: string, fn: () => E.Tensor[], g: E.WebGpuBackend) {
  const [expected, got] = await onBoth(fn, g);
  expected.forEach((e, k) => {
    if (e instanceof Int32Array) assert.deepEqual(got[k], e, `${name}: output ${k}`);
    else assertBitIdentical(got[k] as Float32Array, e, `${name}: output ${k}`);
  });
}

const f32 = (values: readonly number[], shape?: number[]) => E.tensor(Float32Array.from(values), shape ?? [values.length]);
const i32 = (values: readonly number[], shape?: number[]) => E.tensor(Int32Array.from(values), shape ?? [values.length], 'int32');
const uniform = (rng: Rng, n: number, low: number, high: number) => Array.from({ length: n }, () => Math.fround(rng.uniform(low, high)));

/** Each unary op as the public op, with the scalar where it takes one, and where its inputs live. */
const UNARY: Record<UnaryOp, { f: (x: E.Tensor) => E.Tensor; positive?: boolean }> = {
  neg: { f: E.neg }, exp: { f: E.exp }, log: { f: E.log, positive: true }, sqrt: { f: E.sqrt, positive: true },
  rsqrt: { f: E.rsqrt, positive: true }, tanh: { f: E.tanh }, relu: { f: E.relu }, gelu: { f: E.gelu },
  geluTanh: { f: E.geluTanh }, sigmoid: { f: E.sigmoid }, addScalar: { f: (x) => E.addScalar(x, 0.7) },
  mulScalar: { f: (x) => E.mulScalar(x, -1.3) }, powScalar: { f: (x) => E.powScalar(x, 2.5), positive: true },
  abs: { f: E.abs }, square: { f: E.square }, erf: { f: E.erf }, reciprocal: { f: E.reciprocal, positive: true },
  step: { f: E.step },
};

/** ±0, ±inf, NaN, huge, tiny, the exp overflow edge, the branch points of tanh/erf and integers. */
const SPECIAL = [
  NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 1e-6, -1e-6, 1e30, -1e30, 3e38, -3e38, 88.7, 88.8, -87.3, -103,
  100, -100, 0.55, -0.55, 0.9, -0.9, 1.2727922, -1.2727922, 1, -1, 2, -2, 0.5, -0.5, 3, -3, 5.5, -5.5, 9.3, -9.3, 20, -20,
];

describe('webgpu elementwise kernels', () => {
  test('unary: every op, on a shape that is not a multiple of the workgroup size', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
      const { f, positive } = UNARY[op];
      const fn = () => {
        const rng = new Rng(11);
        return [f(f32(uniform(rng, 7 * 43, positive ? 0.05 : -4, 4), [7, 43]))];
      };
      // float32 formulas shared with WebAssembly, a few ulps apart (see the header)
      await closeEverywhere(op, fn, 1e-6, 1e-30, gpu);
      await matchesWasm(op, fn, 1e-6, gpu);
    }
  });

  test('unary: special values (NaN, ±inf, ±0, overflow and underflow edges)', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
      // atol 1e-37: a GPU may flush subnormal results (exp(−100) ≈ 4e-44) to zero. The GELU tails
      // are exp(−x²/2) and σ(2g): an ulp of x² or g (fused or not) moves them by |x²|·2^-24
      // relative, 5e-6 at x = −9.3
      const rtol = op === 'gelu' || op === 'geluTanh' ? 2e-5 : 1e-6;
      await closeEverywhere(op, () => [UNARY[op].f(f32(SPECIAL))], rtol, 1e-37, gpu);
    }
    // exp over its whole range: relative accuracy, not just at the largest value
    await closeEverywhere('exp (range)', () => [E.exp(f32(Array.from({ length: 500 }, (_, i) => Math.fround(-103 + i * 0.3829))))], 1e-6, 1e-37, gpu);
    await closeEverywhere('log (range)', () => [E.log(f32(Array.from({ length: 500 }, (_, i) => Math.fround(1.7 ** (i / 4 - 60)))))], 1e-6, 0, gpu);
    const erfAt = Array.from({ length: 400 }, (_, i) => Math.fround(-5 + i / 40 + 1e-3));
    await closeEverywhere('erf (range)', () => [E.erf(f32(erfAt))], 1e-6, 1e-30, gpu);
    // WGSL has no erf: ours against the float64 reference, within 1e-6 relative
    const erfGpu = await onBackend(gpu, async () => {
      const x = f32(erfAt);
      const y = E.erf(x);
      const v = await y.read();
      x.dispose();
      y.dispose();
      return v;
    });
    assertClose(erfGpu, erfAt.map(R.erf), { rtol: 1e-6, atol: 0 }, 'erf against float64');
  });

  test('powScalar: Math.pow semantics for every special exponent and sign', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const xs = [...SPECIAL, -8, -0.3, 0.3, 1.5, -1.5, 7.25];
    const alphas = [2, 1, 3, 4, -1, -2, 0.5, -0.5, 0, 2.5, -2.5, 1 / 3, 5, -3, 17, 1e10, -1e10, 2 ** 24 + 2, Infinity, -Infinity, NaN];
    for (const a of alphas) {
      // pow: exp(a·log x) in float32 against a float64 pow rounded once, relative error about
      // (1 + |a·log x|)·2^-23 (see the header), up to 1.1e-5 at the overflow edge |a·log x| ≈ 89
      await closeEverywhere(`powScalar ${a}`, () => [E.powScalar(f32(xs), a)], 1.5e-5, 1e-37, gpu);
    }
  });

  test('unaryGrad: every op with a kernel derivative', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const ops = (Object.keys(UNARY_OPS) as UnaryOp[]).filter((op) => UNARY_GRADIENT[op] === 'kernel');
    assert.equal(ops.length, Object.keys(UNARY_OPS).length - 1); // all but step
    for (const op of ops) {
      const { f, positive } = UNARY[op];
      const fn = () => {
        const rng = new Rng(23);
        const values = uniform(rng, 5 * 29, positive ? 0.05 : -5, 5);
        if (!positive) values.splice(0, 4, 0, -0, 6, -6); // kinks (relu, abs) and saturation
        const x = f32(values, [5, 29]);
        x.requiresGrad = true;
        const y = f(x);
        const [dx] = E.gradients([y], [x], [f32(uniform(rng, 5 * 29, -2, 2), [5, 29])]);
        return [y, dx];
      };
      // the gradient uses y = f(x), each backend's own; 1 − y² etc. magnify an ulp of y near
      // saturation, so the scale of the whole array judges the error
      await matchesWasm(`${op} gradient`, fn, 2e-6, gpu);
    }
    // powScalar's derivative with other exponents, 0 (a zero gradient, even at x = 0) and negative bases included
    for (const a of [0, 1, 2, 3, -1, 0.5, 1.5]) {
      const fn = () => {
        const rng = new Rng(29);
        const x = f32([0, -0, ...uniform(rng, 150, a === 0.5 || a === 1.5 ? 0.1 : -3, 3)]); // 0: x^(a−1) may be inf
        x.requiresGrad = true;
        const [dx] = E.gradients([E.powScalar(x, a)], [x], [f32(uniform(rng, 152, -1, 1))]);
        return [dx];
      };
      await matchesWasm(`powScalar ${a} gradient`, fn, 3e-6, gpu);
    }
    // a transposed (non-contiguous) input and cotangent: the op copies them first
    await matchesWasm('tanh gradient, transposed', () => {
      const rng = new Rng(31);
      const x = f32(uniform(rng, 6 * 35, -3, 3), [6, 35]);
      x.requiresGrad = true;
      const xt = E.transpose(x);
      const y = E.tanh(xt);
      const [dx] = E.gradients([y], [x], [E.transpose(f32(uniform(rng, 6 * 35, -1, 1), [6, 35]))]);
      return [y, dx];
    }, 2e-6, gpu);
  });

  test('unaryGrad: special values', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const ops = (Object.keys(UNARY_OPS) as UnaryOp[]).filter((op) => UNARY_GRADIENT[op] === 'kernel');
    const xs = SPECIAL.filter((v) => Math.abs(v) < 1e29); // no ±1e30 and ±3e38: x² and 1/x² overflow alike
    for (const op of ops) {
      // NaN and ±inf as WebAssembly gives them; finite values as above, with an absolute floor
      // since 1 − y² and y(1 − y) cancel near saturation (an ulp of y ≈ 1 is 6e-8)
      await closeEverywhere(`${op} gradient (specials)`, () => {
        const x = f32(xs);
        x.requiresGrad = true;
        const [dx] = E.gradients([UNARY[op].f(x)], [x], [f32(xs.map((_, k) => 1 - (k % 3) * 0.75))]);
        return [dx];
      }, op === 'gelu' || op === 'geluTanh' ? 2e-5 : 1e-6, 1e-6, gpu);
    }
  });

  test('buffers that share an allocation: x op x, views of one tensor, in place', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await closeEverywhere('shared', () => {
      const rng = new Rng(73);
      const x = f32(uniform(rng, 6 * 40, -2, 2), [6, 40]);
      const top = E.slice(x, 0, 0, 3);
      const bottom = E.slice(x, 0, 3, 6);
      const cond = E.gt(x, f32([0]));
      // in place, as rand scales its output: the kernel reads and writes one buffer
      const y = E.add(x, f32([0]));
      E.runKernel('unary', [UNARY_OPS.mulScalar, y, y, y.size, -3], y.size);
      // gradient kernel with x, y and dy all one tensor
      const g = E.empty(x.shape);
      E.runKernel('unaryGrad', [UNARY_OPS.tanh, x, x, x, g, x.size, 0], x.size);
      return [E.add(x, x), E.mul(x, x), E.sub(top, bottom), E.pow(E.abs(top), E.transpose(E.transpose(bottom))), E.where(cond, x, x), E.where(top, bottom, top), y, g];
    }, 1e-6, 0, gpu);
  });

  test('empty tensors and a dispatch of more than 65535 workgroups', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await identical('empty', () => {
      const e = f32([], [0, 3]);
      return [E.exp(e), E.add(e, f32([1])), E.contiguous(E.transpose(e)), E.full([0], 2)];
    }, gpu);
    // 65536·128 + 77 elements: the workgroups spread over x and y, the last row part-filled
    const n = 65536 * 128 + 77;
    const got = await onBackend(gpu, async () => {
      const y = E.full([n], 1.5);
      const z = E.mulScalar(y, 2);
      const v = await z.read();
      y.dispose();
      z.dispose();
      return v;
    });
    assert.equal(got.length, n);
    const wrong = got.findIndex((v) => v !== 3);
    assert.equal(wrong, -1, `element ${wrong} is ${got[wrong]}`);
  });

  test('binary: every op, contiguous, broadcast and transposed operands', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    // [shape of a, shape of b, transpose a's last two axes, transpose b's]
    const cases: [number[], number[], boolean, boolean][] = [
      [[5, 31], [5, 31], false, false], // contiguous: no descriptor
      [[2, 3, 4], [3, 1], false, false],
      [[2, 3, 4], [4], false, false],
      [[1], [3, 17], false, false],
      [[3, 17], [1], false, false],
      [[9, 33, 5], [33, 1], false, false], // several workgroups
      [[3, 1, 5], [4, 1], false, false],
      [[7, 5], [7, 5], true, false], // a is a transposed view
      [[4, 6, 9], [6, 9], true, true],
      [[2, 13, 11], [13, 1], true, false],
    ];
    for (const op of Object.keys(BINARY_OPS) as BinaryOp[]) {
      for (const [sa, sb, ta, tb] of cases) {
        const fn = () => {
          const rng = new Rng(37);
          // steps of ½ (ties for max/min/eq/ge); positive bases and small exponents for pow,
          // divisors away from 0
          const val = (k: number, first: boolean) => {
            const v = Math.round(rng.uniform(-6, 6)) / 2 + (op === 'div' && !first ? 7 : 0);
            if (op !== 'pow') return v;
            return first ? Math.abs(v) + 0.25 + (k % 3) * 0.1 : Math.fround(rng.uniform(-3, 3));
          };
          const make = (shape: number[], tr: boolean, first: boolean) => {
            const s = tr ? [...shape.slice(0, -2), shape[shape.length - 1], shape[shape.length - 2]] : shape;
            const x = f32(Array.from({ length: s.reduce((p, d) => p * d, 1) }, (_, k) => val(k, first)), s);
            return tr ? E.transpose(x) : x;
          };
          const a = make(sa, ta, true);
          const b = make(sb, tb, false);
          return [(E as unknown as Record<BinaryOp, (a: E.Tensor, b: E.Tensor) => E.Tensor>)[op](a, b)];
        };
        // + − × max min and comparisons are exact in float32; ÷ may be 2.5 ulps off on a GPU;
        // pow is exp(a·log x) in float32 (see the header)
        const rtol = op === 'pow' ? 3e-6 : op === 'div' ? 1e-6 : 0;
        await closeEverywhere(`${op} ${JSON.stringify([sa, sb, ta, tb])}`, fn, rtol, 0, gpu);
      }
    }
  });

  test('binary: special values (NaN in max/min/comparisons, ±0 ties, pow over a grid of specials)', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const xs = [...SPECIAL, -8, 0.3, -0.3];
    const ys = [2, 3, -1, -2, 0.5, -0.5, 0, -0, 1, 2.5, -3, 1 / 3, 1e10, Infinity, -Infinity, NaN, 0.3, 7];
    const grid = () => [f32(xs, [xs.length, 1]), f32(ys, [1, ys.length])];
    for (const op of Object.keys(BINARY_OPS) as BinaryOp[]) {
      // as above; pow's results reach the overflow edge here (|b·log a| up to 89: 1.5e-5)
      await closeEverywhere(`${op} (specials)`, () => {
        const [a, b] = grid();
        return [(E as unknown as Record<BinaryOp, (a: E.Tensor, b: E.Tensor) => E.Tensor>)[op](a, b)];
      }, op === 'pow' ? 1.5e-5 : op === 'div' ? 1e-6 : 0, 1e-37, gpu);
    }
    // max/min of ±0 pick the WebAssembly sign
    await identical('max/min of ±0', () => {
      const a = f32([0, -0, 0, -0]);
      const b = f32([-0, 0, 0, -0]);
      return [E.maximum(a, b), E.minimum(a, b)];
    }, gpu);
  });

  test('where: broadcast, transposed, every side chosen bit for bit (−inf and NaN pass through)', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await identical('where', () => {
      const rng = new Rng(41);
      const cond = f32(Array.from({ length: 3 }, (_, k) => [1, 0, -0][k]), [3, 1]);
      const a = f32(uniform(rng, 4, -1, 1), [4]);
      const b = E.transpose(f32([...uniform(rng, 22, -1, 1), -Infinity, NaN], [2, 4, 3]));
      return [E.where(cond, a, b)];
    }, gpu);
    await identical('where (contiguous, NaN and −0 conditions)', () => {
      const rng = new Rng(43);
      const n = 300;
      const cond = f32(Array.from({ length: n }, (_, k) => [0, 1, NaN, -0, 2.5, -1e-30][k % 6]));
      return [E.where(cond, f32(uniform(rng, n, -1, 1)), f32(uniform(rng, n, -1, 1)))];
    }, gpu);
    await identical('where [2,3,4] × [3,1] × [4]', () => {
      const rng = new Rng(47);
      const cond = f32(Array.from({ length: 24 }, () => (rng.next() < 0.5 ? 1 : 0)), [2, 3, 4]);
      return [E.where(cond, f32(uniform(rng, 3, -1, 1), [3, 1]), f32(uniform(rng, 4, -1, 1), [4])), E.maskedFill(f32(uniform(rng, 24, -1, 1), [2, 3, 4]), cond, -Infinity)];
    }, gpu);
  });

  test('copyStrided: views of float32 and int32 tensors copied bit for bit', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const views = (x: E.Tensor) => [
      E.contiguous(E.transpose(x, 0, 2)),
      E.contiguous(E.permute(x, [1, 2, 0])),
      E.contiguous(E.slice(x, 1, 2, 9)),
      E.contiguous(E.slice(E.transpose(x), 2, 1, 4)),
      E.contiguous(E.expand(E.slice(x, 0, 1, 2), [3, 11, 13])),
    ];
    await identical('float32 views', () => {
      const rng = new Rng(53);
      const v = uniform(rng, 3 * 11 * 13, -1, 1);
      v.splice(0, 4, NaN, -0, Infinity, -Infinity);
      return views(f32(v, [3, 11, 13]));
    }, gpu);
    await identical('int32 views', () => {
      const rng = new Rng(59);
      const v = Array.from({ length: 3 * 11 * 13 }, () => (rng.int(2 ** 32) | 0));
      v.splice(0, 4, 2 ** 31 - 1, -(2 ** 31), 16777217, -1);
      return views(i32(v, [3, 11, 13]));
    }, gpu);
  });

  test('copyToStrided: concat and assignment into views, float32 and int32', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await identical('concat', () => {
      const rng = new Rng(61);
      const a = f32(uniform(rng, 4 * 3 * 5, -1, 1), [4, 3, 5]);
      const b = f32(uniform(rng, 4 * 7 * 5, -1, 1), [4, 7, 5]);
      const ia = i32(Array.from({ length: 60 }, () => rng.int(2 ** 32) | 0), [4, 3, 5]);
      const ib = i32(Array.from({ length: 4 * 2 * 5 }, () => rng.int(2 ** 32) | 0), [4, 2, 5]);
      return [E.concat([a, b], 1), E.concat([a, E.slice(a, 0, 1, 3)], 0), E.concat([ia, ib], 1), E.concat([a, a], -1)];
    }, gpu);
    await identical('assign into views', () => {
      const rng = new Rng(67);
      const dst = E.zeros([9, 14]);
      E.assign(E.transpose(dst), f32(uniform(rng, 14 * 9, -1, 1), [14, 9]));
      const part = E.zeros([6, 10]);
      E.assign(E.slice(part, 1, 3, 8), f32(uniform(rng, 30, -1, 1), [6, 5]));
      const ints = E.zeros([5, 8], 'int32');
      E.assign(E.transpose(ints), Int32Array.from({ length: 40 }, (_, k) => (k * 1234567891) | 0));
      return [dst, part, ints];
    }, gpu);
  });

  test('fill: float32 values (−inf and NaN too) and int32 through the cast', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await identical('fill', () => [
      E.full([37, 5], 3.25), E.full([300], -Infinity), E.full([3], NaN), E.zeros([129]), E.ones([2, 2]),
      E.full([17], -7, 'int32'), E.full([4], 2 ** 31 - 128, 'int32'), E.zeros([130], 'int32'),
    ], gpu);
  });

  test('casts: int32 → float32 rounding to nearest even, float32 → int32 truncating and saturating', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    const ints = [
      0, 1, -1, 7, 2 ** 24, 2 ** 24 + 1, 2 ** 24 + 3, -(2 ** 24 + 1), -(2 ** 24 + 3), 2 ** 25 + 2, 2 ** 25 + 6, 33554435,
      -33554433, 123456789, -123456789, 2 ** 31 - 1, -(2 ** 31), -(2 ** 31 - 1), 2 ** 31 - 64, 2 ** 31 - 65, 2 ** 30 + 64, 2 ** 30 + 192,
    ];
    const rng = new Rng(71);
    for (let k = 0; k < 150; k++) ints.push(rng.int(2 ** 32) | 0);
    const floats = [
      -2.5, 2.5, -0.5, 0.5, 0.99, -0.99, 1.5, -1.5, 0, -0, 1e10, -1e10, NaN, Infinity, -Infinity, 2147483520, -2147483520,
      2147483648, -2147483648, -2147483904, 3e38, -3e38, 16777217, 1e-30, 123456.789, -7.999,
    ];
    const cast = (kernel: 'castI32F32' | 'castF32I32', x: E.Tensor) => {
      const y = E.empty(x.shape, kernel === 'castI32F32' ? 'float32' : 'int32');
      E.runKernel(kernel, [x, y, x.size], x.size);
      return y;
    };
    const [[toF, toI], [gotF, gotI]] = await onBoth(() => [cast('castI32F32', i32(ints)), cast('castF32I32', f32(floats))], gpu);
    assertBitIdentical(gotF as Float32Array, toF as Float32Array, 'castI32F32');
    assert.deepEqual(gotI, toI, 'castF32I32');
    // and what they are: Math.fround rounds to nearest even; truncation saturates, NaN → 0
    assert.deepEqual(Array.from(gotF), ints.map(Math.fround));
    const trunc = (v: number) => (Number.isNaN(v) ? 0 : Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.trunc(v))));
    assert.deepEqual(Array.from(gotI), floats.map((v) => trunc(Math.fround(v)) + 0));
  });
});
