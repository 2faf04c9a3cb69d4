/** Elementwise functions of two (or three) tensors with NumPy broadcasting. Kernel: binary / where. */
import { composite, record } from '../autograd.js';
import { BINARY_OPS as CODE, type BinaryOp } from '../backend/op-codes.js';
import { broadcastShapes, fmt, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { full } from './creation.js';
import { broadcastStrides, empty, run, withDescriptor } from './kernel.js';
import { sumTo } from './reduce.js';
import { log, mulScalar, neg } from './unary.js';

function binaryKernel(name: BinaryOp, a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    throw new Error(`${name}: expects float32 tensors, got ${a.dtype} ${fmt(a.shape)} and ${b.dtype} ${fmt(b.shape)}`);
  }
  const shape = broadcastShapes(name, a.shape, b.shape);
  const out = empty(shape);
  if (out.size === 0) return out;
  const args = [CODE[name], a, b, out, out.size] as const;
  if (sameShape(a.shape, b.shape) && a.isContiguous && b.isContiguous) run('binary', [...args, null], out.size);
  else {
    withDescriptor(shape, [broadcastStrides(a, shape), broadcastStrides(b, shape)], (desc) =>
      run('binary', [...args, desc], out.size),
    );
  }
  return out;
}

export function add(a: Tensor, b: Tensor): Tensor {
  // d(a+b) = (dy, dy), summed over broadcast axes (not for an input without grad, e.g. a mask's bias)
  return record(binaryKernel('add', a, b), 'add', [a, b], (dy) => [a.requiresGrad ? sumTo(dy, a.shape) : null, b.requiresGrad ? sumTo(dy, b.shape) : null]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record(binaryKernel('sub', a, b), 'sub', [a, b], (dy) => [
    a.requiresGrad ? sumTo(dy, a.shape) : null,
    b.requiresGrad ? reduceOwned(neg(dy), b) : null,
  ]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  // d(a·b) = (dy·b, dy·a)
  return record(binaryKernel('mul', a, b), 'mul', [a, b], (dy) => [
    a.requiresGrad ? reduceOwned(binaryKernel('mul', dy, b), a) : null,
    b.requiresGrad ? reduceOwned(binaryKernel('mul', dy, a), b) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = binaryKernel('div', a, b);
  // d(a/b) = (dy/b, −dy·(a/b)/b)
  return record(out, 'div', [a, b], (dy) => {
    const da = a.requiresGrad ? reduceOwned(binaryKernel('div', dy, b), a) : null;
    let db: Tensor | null = null;
    if (b.requiresGrad) {
      const t = binaryKernel('mul', dy, out);
      const u = binaryKernel('div', t, b);
      t.dispose();
      db = reduceOwned(neg(u), b);
      u.dispose();
    }
    return [da, db];
  });
}

/** Elementwise maximum; at ties the gradient is split evenly, as in PyTorch. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return record(binaryKernel('maximum', a, b), 'maximum', [a, b], (dy) => tieSplit(dy, a, b, 'gt'));
}

export function minimum(a: Tensor, b: Tensor): Tensor {
  return record(binaryKernel('minimum', a, b), 'minimum', [a, b], (dy) => tieSplit(dy, a, b, 'lt'));
}

/** Gradient of max (wins = gt) or min (wins = lt): dy·([a wins] + ½[a = b]) to a, the rest to b. */
function tieSplit(dy: Tensor, a: Tensor, b: Tensor, wins: 'gt' | 'lt'): [Tensor, Tensor] {
  const gt = binaryKernel(wins, a, b);
  const eq = binaryKernel('eq', a, b);
  const half = mulScalar(eq, 0.5);
  const wa = binaryKernel('add', gt, half);
  const ga = binaryKernel('mul', dy, wa);
  const gb = binaryKernel('sub', dy, ga);
  [gt, eq, half, wa].forEach((t) => t.dispose());
  return [reduceOwned(ga, a), reduceOwned(gb, b)];
}

export function pow(a: Tensor, b: Tensor): Tensor {
  const out = binaryKernel('pow', a, b);
  // d(aᵇ) = (dy·b·aᵇ⁻¹, dy·aᵇ·ln a)
  return record(out, 'pow', [a, b], (dy) => {
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      const one = full([1], 1);
      const bm1 = binaryKernel('sub', b, one);
      const p = binaryKernel('pow', a, bm1);
      const q = binaryKernel('mul', p, b);
      da = reduceOwned(binaryKernel('mul', dy, q), a);
      [one, bm1, p, q].forEach((t) => t.dispose());
    }
    if (b.requiresGrad) {
      const la = log(a);
      const t = binaryKernel('mul', out, la);
      db = reduceOwned(binaryKernel('mul', dy, t), b);
      [la, t].forEach((x) => x.dispose());
    }
    return [da, db];
  });
}

/** 1 where a = b, else 0 (no gradient). */
export const eq = (a: Tensor, b: Tensor) => binaryKernel('eq', a, b);
export const gt = (a: Tensor, b: Tensor) => binaryKernel('gt', a, b);
export const ge = (a: Tensor, b: Tensor) => binaryKernel('ge', a, b);
export const lt = (a: Tensor, b: Tensor) => binaryKernel('lt', a, b);

/** cond ≠ 0 ? a : b, broadcasting all three. The unchosen side never leaks (−inf stays out). */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape);
  if (cond.dtype !== 'float32') throw new Error(`where: condition must be a float32 0/1 mask, got ${cond.dtype}`);
  const out = whereKernel(cond, a, b, shape);
  return record(out, 'where', [a, b], (dy) => {
    const zero = full([1], 0);
    const da = a.requiresGrad ? reduceOwned(whereKernel(cond, dy, zero, shape), a) : null;
    const db = b.requiresGrad ? reduceOwned(whereKernel(cond, zero, dy, shape), b) : null;
    zero.dispose();
    return [da, db];
  });
}

/** Fills positions where mask ≠ 0 with `value` (e.g. −Infinity before a softmax). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return composite([x], () => where(mask, full([1], value), x));
}

function whereKernel(cond: Tensor, a: Tensor, b: Tensor, shape: readonly number[]): Tensor {
  const out = empty(shape);
  if (out.size === 0) return out;
  withDescriptor(shape, [cond, a, b].map((t) => broadcastStrides(t, shape)), (desc) =>
    run('where', [cond, a, b, out, out.size, desc], out.size),
  );
  return out;
}

/** sumTo of a temporary, disposing the temporary when a reduction made a new tensor. */
function reduceOwned(t: Tensor, like: Tensor): Tensor {
  const r = sumTo(t, like.shape);
  if (r !== t) t.dispose();
  return r;
}
