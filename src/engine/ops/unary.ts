/** Elementwise functions of one tensor. Kernel: unary / unaryGrad (src/engine/kernels/elementwise.ts). */
import { isGradEnabled, record } from '../autograd.js';
import { BINARY_OPS, UNARY_GRADIENT, UNARY_OPS as CODE, type UnaryOp } from '../backend/op-codes.js';
import { Tensor } from '../tensor.js';
import { empty, run, withContiguous } from './kernel.js';

function unary(name: UnaryOp, x: Tensor, alpha = 0): Tensor {
  if (x.dtype !== 'float32') throw new Error(`${name}: expects float32, got ${x.dtype} ${x}`);
  const out = empty(x.shape);
  withContiguous([x], (xc) => run('unary', [CODE[name], xc, out, x.size, alpha], x.size));
  if (UNARY_GRADIENT[name] === 'none') return out;
  // dx = dy ⊙ f′(x), the kernel using x or y = f(x), whichever is cheaper.
  return record(out, name, [x], (dy) => {
    const dx = empty(x.shape);
    withContiguous([x, out, dy], (xc, yc, dyc) =>
      run('unaryGrad', [CODE[name], xc, yc, dyc, dx, x.size, alpha], x.size),
    );
    return [dx];
  });
}

export const neg = (x: Tensor) => unary('neg', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const rsqrt = (x: Tensor) => unary('rsqrt', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const relu = (x: Tensor) => unary('relu', x);
/**
 * GELU, exact erf form: x·Φ(x). When it will be differentiated, one kernel also writes GELU′(x) from
 * the same Φ(x), and the backward is dy·GELU′(x) (the bits of the unary gradient kernel, without
 * evaluating Φ again); x is then not kept for the backward.
 */
export function gelu(x: Tensor): Tensor {
  if (!(isGradEnabled() && x.requiresGrad) || x.dtype !== 'float32') return unary('gelu', x);
  const y = empty(x.shape);
  const slope = empty(x.shape);
  withContiguous([x], (xc) => run('geluWithGrad', [xc, y, slope, x.size], x.size));
  return record(y, 'gelu', [x], (dy) => {
    const dx = empty(x.shape);
    withContiguous([dy], (dyc) => run('binary', [BINARY_OPS.mul, dyc, slope, dx, x.size, null], x.size));
    return [dx];
  });
}
/** GELU, tanh approximation (Hugging Face "gelu_new"). */
export const geluTanh = (x: Tensor) => unary('geluTanh', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const abs = (x: Tensor) => unary('abs', x);
export const square = (x: Tensor) => unary('square', x);
export const erf = (x: Tensor) => unary('erf', x);
export const reciprocal = (x: Tensor) => unary('reciprocal', x);
/** 1 where x > 0, else 0 (no gradient). */
export const step = (x: Tensor) => unary('step', x);
export const addScalar = (x: Tensor, s: number) => unary('addScalar', x, s);
export const mulScalar = (x: Tensor, s: number) => unary('mulScalar', x, s);
export const powScalar = (x: Tensor, p: number) => unary('powScalar', x, p);
