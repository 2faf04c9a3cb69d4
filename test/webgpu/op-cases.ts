/**
 * One computation per kernel family, forward and backward, built from seeded host data: run on two
 * backends they must agree. Node runs the list on Dawn (test/webgpu/op-cases.test.ts), a Chromium
 * page on its own WebGPU adapter (test/webgpu-browser.test.ts). Host-neutral: the library module
 * comes in as an argument, because a page and Node import it by different URLs.
 */
import type * as Lib from '../../src/web/core.js';
import { Rng } from '../rng.js';

type Tensor = Lib.Tensor;

export interface OpCase {
  name: string;
  /** Allowed error relative to max |expected| (float32; summation orders differ between backends). */
  tol: number;
  run(E: typeof Lib, rng: Rng): Tensor[];
}

/** A float32 tensor of uniform values in [low, high), recording gradients. */
function input(E: typeof Lib, rng: Rng, shape: number[], low = -1, high = 1): Tensor {
  const t = E.tensor(Float32Array.from(rng.array(shape, low, high).data), shape);
  t.requiresGrad = true;
  return t;
}

/** y and the gradients of Σ y·c (c random) with respect to xs. */
function withGradients(E: typeof Lib, rng: Rng, y: Tensor, xs: Tensor[]): Tensor[] {
  const cot = E.tensor(Float32Array.from(rng.randn([...y.shape]).data), [...y.shape]);
  return [y, ...E.gradients([y], xs, [cot])];
}

const UNARY = ['neg', 'exp', 'tanh', 'relu', 'gelu', 'geluTanh', 'sigmoid', 'abs', 'square', 'erf'] as const;
const POSITIVE = ['log', 'sqrt', 'rsqrt', 'reciprocal'] as const;
const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'] as const;

export const OP_CASES: OpCase[] = [
  ...[...UNARY, ...POSITIVE].map((op): OpCase => ({
    name: `unary ${op} (transposed view)`, tol: 2e-6,
    run: (E, rng) => {
      const x = (POSITIVE as readonly string[]).includes(op) ? input(E, rng, [5, 19], 0.3, 2.5) : input(E, rng, [5, 19], -3, 3);
      return withGradients(E, rng, (E[op] as (t: Tensor) => Tensor)(E.transpose(x)), [x]);
    },
  })),
  {
    name: 'scalar ops', tol: 2e-6,
    run: (E, rng) => {
      const x = input(E, rng, [70], 0.2, 2);
      return withGradients(E, rng, E.powScalar(E.mulScalar(E.addScalar(x, 0.5), -1.5), 2), [x]);
    },
  },
  ...BINARY.map((op): OpCase => ({
    name: `binary ${op} broadcast [2,3,4]·[3,1] and [4]`, tol: 2e-6,
    run: (E, rng) => {
      const [lo, hi] = op === 'pow' || op === 'div' ? [0.5, 2] : [-1, 1];
      const a = input(E, rng, [2, 3, 4], lo, hi);
      const b = input(E, rng, [3, 1], lo, hi);
      const c = input(E, rng, [4], lo, hi);
      const f = E[op] as (x: Tensor, y: Tensor) => Tensor;
      return withGradients(E, rng, f(f(a, b), c), [a, b, c]);
    },
  })),
  {
    name: 'where, maskedFill, comparisons', tol: 1e-6,
    run: (E, rng) => {
      const a = input(E, rng, [3, 17]);
      const b = input(E, rng, [17]);
      const y = E.maskedFill(E.where(E.gt(a, b), a, b), E.lt(a, E.full([1], -0.5)), 7);
      return withGradients(E, rng, y, [a, b]);
    },
  },
  {
    name: 'reductions over axes (sum, mean, max, min)', tol: 2e-6,
    run: (E, rng) => {
      const x = input(E, rng, [4, 33, 5]);
      const flat = (t: Tensor) => E.reshape(t, [-1]);
      const y = E.concat([flat(E.sum(x, 1)), flat(E.mean(x, [0, 2])), flat(E.max(x, -1)), flat(E.min(x, 0)), flat(E.sum(x))]);
      return withGradients(E, rng, y, [x]);
    },
  },
  {
    name: 'softmax and logSoftmax with a mask, rows longer than a workgroup', tol: 2e-6,
    run: (E, rng) => {
      const x = input(E, rng, [3, 300], -4, 4);
      const mask = E.tensor(Float32Array.from({ length: 300 }, (_, i) => (i % 7 === 3 ? -1e9 : 0)), [1, 300]);
      return withGradients(E, rng, E.add(E.softmax(x, { mask }), E.mulScalar(E.logSoftmax(x), 0.01)), [x]);
    },
  },
  {
    name: 'layerNorm and crossEntropy (ignored rows)', tol: 5e-6,
    run: (E, rng) => {
      const x = input(E, rng, [6, 40], -2, 2);
      const w = input(E, rng, [40]);
      const b = input(E, rng, [40]);
      const h = E.layerNorm(x, w, b);
      const logits = E.matmul(h, E.transpose(E.slice(h, 0, 0, 5)));
      const loss = E.crossEntropy(logits, E.tensor(Int32Array.from([0, 4, -100, 2, 2, 1]), [6], 'int32'), { labelSmoothing: 0.1 });
      return [h, ...withGradients(E, rng, loss, [x, w, b])];
    },
  },
  {
    name: 'take and gather (scatter-add of repeated ids)', tol: 1e-6,
    run: (E, rng) => {
      const table = input(E, rng, [9, 6]);
      const ids = E.tensor(Int32Array.from([3, 1, 3, 8, 0, 3, 1]), [7], 'int32');
      const rows = E.take(table, ids);
      const picked = E.gather(rows, E.tensor(Int32Array.from([0, 5, 5, 2, 1, 0, 4]), [7, 1], 'int32'), -1);
      return withGradients(E, rng, E.add(E.sum(rows), E.sum(picked)), [table]);
    },
  },
  {
    name: 'concat, stack, pad, copies of views', tol: 1e-7,
    run: (E, rng) => {
      const a = input(E, rng, [2, 3, 4]);
      const column = (j: number) => E.reshape(E.slice(a, 2, j, j + 1), [2, 3]);
      const y = E.pad(E.concat([E.permute(a, [2, 0, 1]), E.stack([column(1), column(3)], 0)], 0), [[1, 0], [0, 2]]);
      return withGradients(E, rng, y, [a]);
    },
  },
  {
    name: 'depthwiseConv1d, K = 5 and 33', tol: 2e-6,
    run: (E, rng) => {
      const x = input(E, rng, [2, 3, 41, 4]);
      const w5 = input(E, rng, [3, 1, 5, 1]);
      const w33 = input(E, rng, [3, 1, 33, 1], -0.2, 0.2);
      return withGradients(E, rng, E.add(E.depthwiseConv1d(x, w5), E.depthwiseConv1d(x, w33)), [x, w5, w33]);
    },
  },
  {
    name: 'segmentMeans, uneven segments (n = 37, m = 8)', tol: 1e-6,
    run: (E, rng) => {
      const x = input(E, rng, [2, 2, 37, 5]);
      return withGradients(E, rng, E.segmentMeans(x, 8), [x]);
    },
  },
  {
    name: 'matmul: batched, transposed, broadcast, x·xᵀ', tol: 2e-6,
    run: (E, rng) => {
      const a = input(E, rng, [2, 70, 33]);
      const b = input(E, rng, [65, 33]);
      const y = E.add(E.matmul(a, b, { transB: true }), E.slice(E.matmul(a, a, { transB: true }), 2, 0, 65));
      return withGradients(E, rng, y, [a, b]);
    },
  },
  {
    name: 'softmax attention (flash): mask, cross lengths, dropout', tol: 2e-5,
    run: (E, rng) => {
      const q = input(E, rng, [2, 2, 37, 16]);
      const k = input(E, rng, [2, 2, 37, 16]);
      const v = input(E, rng, [2, 2, 37, 16]);
      const mask = E.tensor(Float32Array.from({ length: 74 }, (_, i) => (i % 37 > 30 ? 0 : 1)), [2, 37]);
      const y = E.softmaxAttention(q, k, v, { mask, dropout: { p: 0.2, seed: 5 } });
      return withGradients(E, rng, y, [q, k, v]);
    },
  },
  {
    name: 'Nyström attention (fused), 8 landmarks, conv on V, mask', tol: 5e-5,
    run: (E, rng) => {
      const q = input(E, rng, [1, 2, 50, 16]);
      const k = input(E, rng, [1, 2, 50, 16]);
      const v = input(E, rng, [1, 2, 50, 16]);
      const convWeight = input(E, rng, [2, 1, 5, 1], -0.3, 0.3);
      const mask = E.tensor(Float32Array.from({ length: 50 }, (_, i) => (i < 44 ? 1 : 0)), [1, 50]);
      const y = E.nystromAttention(q, k, v, { numLandmarks: 8, convWeight, mask });
      return withGradients(E, rng, y, [q, k, v, convWeight]);
    },
  },
  {
    name: 'random streams and dropout (bit-identical masks)', tol: 0,
    run: (E) => [E.rand([3, 1000], 17), E.dropout(E.ones([2000]), 0.3, 9), E.addDropout(E.full([1001], 0.5), E.ones([1001]), 0.3, 9)],
  },
  {
    // the backward reads the mask as bits: lengths off a 32-element word, and a residual
    name: 'dropout and addDropout with gradients (bit mask)', tol: 0,
    run: (E, rng) => {
      const x = input(E, rng, [3, 67]), r = input(E, rng, [3, 67]);
      return [...withGradients(E, rng, E.dropout(x, 0.3, 4), [x]), ...withGradients(E, rng, E.addDropout(r, x, 0.2, 5), [r, x])];
    },
  },
  {
    name: 'fused AdamW update (decay on one tensor)', tol: 1e-6,
    run: (E, rng) => {
      const make = (shape: number[]) => E.tensor(Float32Array.from(rng.array(shape).data), shape);
      const params = [[5, 7], [300]].map((shape, k) => ({ w: make(shape), g: make(shape), m: E.zeros(shape), v: E.zeros(shape), decay: k === 0 }));
      for (let step = 1; step <= 3; step++) {
        E.adamwStep(params, { gradScale: 0.5, lr: 0.01, beta1: 0.9, beta2: 0.999, c1: 1 - 0.9 ** step, c2: 1 - 0.999 ** step, eps: 1e-8, shrink: 1 - 0.01 * 0.1 });
      }
      return params.flatMap((p) => [p.w, p.m, p.v]);
    },
  },
];
