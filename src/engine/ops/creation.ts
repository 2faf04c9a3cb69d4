/** Tensor constructors. */
import type { DType } from '../backend/backend.js';
import { UNARY_OPS } from '../backend/op-codes.js';
import { Shape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { copyContiguous, empty, run, withContiguous } from './kernel.js';
import { uniformStream } from '../random-stream.js';

export function tensor(data: Float32Array | Int32Array | readonly number[], shape?: Shape, dtype?: DType): Tensor {
  return Tensor.from(data, shape, dtype);
}

export function full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  const t = empty(shape, dtype);
  if (dtype === 'int32') {
    if (!Number.isInteger(value)) throw new Error(`full: int32 tensor cannot hold ${value}`);
    // fill writes f32 bits; int32 values go through the cast kernel.
    const f = full(shape, value);
    run('castF32I32', [f, t, t.size], t.size);
    f.dispose();
  } else run('fill', [t, t.size, value], t.size);
  return t;
}

export const zeros = (shape: Shape, dtype: DType = 'float32') => full(shape, 0, dtype);
export const ones = (shape: Shape, dtype: DType = 'float32') => full(shape, 1, dtype);
export const zerosLike = (t: Tensor) => zeros(t.shape, t.dtype);
export const onesLike = (t: Tensor) => ones(t.shape, t.dtype);

/** Uniform in [low, high), from a counter-based generator: same seed, same values, any thread count. */
export function rand(shape: Shape, seed: number, low = 0, high = 1): Tensor {
  const t = empty(shape);
  run('randomUniform', [t, t.size, seed | 0, 0], t.size);
  if (low !== 0 || high !== 1) {
    run('unary', [UNARY_OPS.mulScalar, t, t, t.size, high - low], t.size);
    run('unary', [UNARY_OPS.addScalar, t, t, t.size, low], t.size);
  }
  return t;
}

/** Normal(mean, std) by Box–Muller on a seeded uniform stream (for initialisation). */
export function randn(shape: Shape, seed: number, mean = 0, std = 1): Tensor {
  const n = sizeOf(shape);
  // The uniforms of rand(…, seed), made on the host: no device round trip, on any backend.
  const uv = uniformStream(seed | 0, 0, n + (n & 1));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - uv[i]));
    const theta = 2 * Math.PI * uv[i + 1];
    out[i] = mean + std * r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(theta);
  }
  return Tensor.from(out, shape);
}

/**
 * The values as `dtype`, in a new tensor: int32 → float32 exactly, float32 → int32 truncated toward
 * zero and saturated (NaN → 0); same dtype: a copy. Not differentiable.
 */
export function cast(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return copyContiguous(t);
  return withContiguous([t], (x) => {
    const y = empty(t.shape, dtype);
    run(dtype === 'float32' ? 'castI32F32' : 'castF32I32', [x, y, t.size], t.size);
    return y;
  });
}

/** 0, 1, …, n−1 as int32. */
export function arange(n: number): Tensor {
  return Tensor.from(Int32Array.from({ length: n }, (_, i) => i), [n], 'int32');
}
