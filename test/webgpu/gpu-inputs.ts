/** Shared pieces of the WebGPU kernel tests: seeded host data and a check for kernels owned elsewhere. */
import * as E from '../../src/engine/index.js';
import { GPU_KERNELS } from '../../src/engine/backend/webgpu/kernels/index.js';
import { Rng } from '../check.js';

/** n float32 values uniform in [low, high) from rng. */
export function uniform(rng: Rng, n: number, low = -1, high = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(low, high));
}

/** A float32 tensor of the shape, uniform in [low, high), from a generator seeded here (the same each call). */
export function randTensor(seed: number, shape: readonly number[], low = -1, high = 1, requiresGrad = false): E.Tensor {
  const t = E.tensor(uniform(new Rng(seed), E.sizeOf(shape), low, high), shape);
  t.requiresGrad = requiresGrad;
  return t;
}

/**
 * Why a test that also runs other kernels (written elsewhere) cannot run on WebGPU yet, or
 * undefined when every one of them has a WGSL version.
 */
export function missingKernels(...names: E.KernelName[]): string | undefined {
  const missing = names.filter((k) => !GPU_KERNELS[k]);
  return missing.length ? `needs WGSL kernels not present yet: ${missing.join(', ')}` : undefined;
}
