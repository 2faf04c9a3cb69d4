/**
 * The WebGPU optimizer updates against the WebAssembly ones: a few steps of AdamW (decay on some
 * parameters, not on biases and norms) and of SGD (with momentum and weight decay, and without
 * momentum) through the public optimizer classes, and the engine's adamwStep / sgdStep on lists
 * with an empty tensor, a gradient at an offset in its buffer and, for SGD, tensors with and
 * without a momentum buffer, every state tensor compared.
 */
import { before, describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { AdamW, SGD, type Optimizer } from '../../src/train/index.js';
import { Rng } from '../check.js';
import { matchesWasm, webgpuBackend } from './backends.js';

let gpu: E.WebGpuBackend | string;
before(async () => (gpu = await webgpuBackend()));

// The same formulas in float32 on the GPU as in float64 (rounded to float32 per stored value)
// on WebAssembly: a few float32 roundings of each value apart.
const TOL = 1e-6;

function values(rng: Rng, n: number, low = -1, high = 1): Float32Array {
  return Float32Array.from({ length: n }, () => Math.fround(rng.uniform(low, high)));
}

function rand(rng: Rng, shape: readonly number[], low = -1, high = 1): E.Tensor {
  return E.tensor(values(rng, E.sizeOf(shape), low, high), shape);
}

/** Parameter names (decay by the default rule: none on '.bias' and norm weights) and shapes. */
const SHAPES: [string, number[]][] = [
  ['encoder.weight', [7, 13]],
  ['encoder.bias', [13]],
  ['embed.weight', [300]], // more than one workgroup
  ['norm.weight', [5]],
];

/**
 * `steps` updates of `make(params)` from a saved state (moments or momentum from the generator,
 * loaded from host data), each with fresh gradients; the first parameter's gradient is a view
 * at an offset in a larger tensor. Returns the parameters.
 */
function train(rng: Rng, make: (params: [string, E.Tensor][]) => Optimizer, slots: readonly string[], steps: number, lr: number, gradScale: number): E.Tensor[] {
  const params: [string, E.Tensor][] = SHAPES.map(([name, shape]) => [name, rand(rng, shape)]);
  const opt = make(params);
  opt.loadState({
    step: 2,
    slots: Object.fromEntries(params.map(([name, p]) => [name, Object.fromEntries(slots.map((key) => [
      key, key === 'v' ? values(rng, p.size, 0, 0.01) : values(rng, p.size, -0.1, 0.1),
    ]))])),
  });
  for (let s = 0; s < steps; s++) {
    params.forEach(([, p], i) => {
      p.grad = i === 0 ? E.slice(rand(rng, [2 * p.shape[0], p.shape[1]]), 0, p.shape[0], 2 * p.shape[0]) : rand(rng, p.shape);
    });
    opt.apply(lr, gradScale);
    opt.zeroGrad();
  }
  opt.dispose();
  return params.map(([, p]) => p);
}

describe('webgpu optimizers', () => {
  test('AdamW: three steps, weight decay where the names take it', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await matchesWasm('AdamW', () => train(new Rng(21), (p) => new AdamW(p, { weightDecay: 0.1 }), ['m', 'v'], 3, 1e-2, 0.7), TOL, gpu);
  });

  test('AdamW: other betas and eps, no gradient scaling', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await matchesWasm('AdamW betas', () => train(new Rng(22), (p) => new AdamW(p, { betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.01 }), ['m', 'v'], 2, 3e-3, 1), TOL, gpu);
  });

  test('SGD with momentum and weight decay', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await matchesWasm('SGD momentum', () => train(new Rng(23), (p) => new SGD(p, 0.9, 0.05), ['momentum'], 3, 0.1, 0.5), TOL, gpu);
  });

  test('SGD without momentum', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await matchesWasm('SGD plain', () => train(new Rng(24), (p) => new SGD(p, 0, 0.01), [], 3, 0.1, 1.5), TOL, gpu);
  });

  test('adamwStep: every state tensor, an empty tensor in the list', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await matchesWasm('adamwStep', () => {
      const rng = new Rng(25);
      const params = [[40], [0], [3, 90], [1]].map((shape, i) => {
        const n = E.sizeOf(shape);
        const big = rand(rng, [2, n]);
        return {
          w: rand(rng, shape),
          g: i === 2 ? E.reshape(E.slice(big, 0, 1, 2), shape) : rand(rng, shape), // at an offset
          m: rand(rng, shape, -0.1, 0.1),
          v: rand(rng, shape, 0, 0.01),
          decay: i !== 0,
        };
      });
      for (let step = 5; step <= 6; step++) {
        E.adamwStep(params, { gradScale: 0.3, lr: 2e-2, beta1: 0.9, beta2: 0.999, c1: 1 - 0.9 ** step, c2: 1 - 0.999 ** step, eps: 1e-8, shrink: 1 - 2e-2 * 0.1 });
      }
      return params.flatMap((p) => [p.w, p.m, p.v]);
    }, TOL, gpu);
  });

  test('sgdStep: tensors with and without a momentum buffer in one call', async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await matchesWasm('sgdStep', () => {
      const rng = new Rng(26);
      const params = [[300], [0], [17], [4, 5]].map((shape, i) => ({
        w: rand(rng, shape),
        g: rand(rng, shape),
        buf: i % 2 === 0 ? rand(rng, shape, -0.1, 0.1) : null,
      }));
      for (let step = 0; step < 2; step++) E.sgdStep(params, { gradScale: 0.8, lr: 0.05, momentum: 0.9, weightDecay: 0.02 });
      return params.flatMap((p) => (p.buf ? [p.w, p.buf] : [p.w]));
    }, TOL, gpu);
  });
});
