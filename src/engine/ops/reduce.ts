/** Reductions over axes: sum, mean, max, min; and sumTo, the adjoint of broadcasting. Kernels: reduceRows / reduceCols. */
import { composite, record } from '../autograd.js';
import { fmt, normAxes, Shape, sameShape, sizeOf, contiguousStrides } from '../shape.js';
import { BINARY_OPS, REDUCE_OPS as CODE, UNARY_OPS, type ReduceOp } from '../backend/op-codes.js';
import { Tensor } from '../tensor.js';
import { copyContiguous, empty, run, withContiguous } from './kernel.js';


export interface ReduceOptions {
  keepDims?: boolean;
}

type Axes = number | readonly number[] | undefined;

export function sum(x: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  const ax = normAxes('sum', axes, x.rank);
  const out = reduce('sum', x, ax, options.keepDims);
  // dx = dy broadcast back over the reduced axes
  return record(out, 'sum', [x], (dy) => [broadcastBack(dy, x.shape, ax)]);
}

export function mean(x: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  const ax = normAxes('mean', axes, x.rank);
  const count = sizeOf(ax.map((a) => x.shape[a]));
  const out = reduce('sum', x, ax, options.keepDims);
  run('unary', [UNARY_OPS.mulScalar, out, out, out.size, 1 / count], out.size);
  return record(out, 'mean', [x], (dy) => {
    const dx = broadcastBack(dy, x.shape, ax);
    run('unary', [UNARY_OPS.mulScalar, dx, dx, dx.size, 1 / count], dx.size);
    return [dx];
  });
}

/** Maximum over axes; tied maxima share the gradient evenly (PyTorch's amax rule). */
export const max = (x: Tensor, axes?: Axes, options: ReduceOptions = {}) => extreme('max', x, axes, options);
export const min = (x: Tensor, axes?: Axes, options: ReduceOptions = {}) => extreme('min', x, axes, options);

function extreme(op: 'max' | 'min', x: Tensor, axes: Axes, options: ReduceOptions): Tensor {
  const ax = normAxes(op, axes, x.rank);
  const out = reduce(op, x, ax, options.keepDims);
  return record(out, op, [x], (dy) => {
    // dx = dy · [x = m] / #{x = m}
    const m = broadcastBack(out, x.shape, ax);
    const hit = empty(x.shape);
    withContiguous([x], (xc) => run('binary', [BINARY_OPS.eq, xc, m, hit, x.size, null], x.size));
    const count = reduce('sum', hit, ax, true);
    const share = broadcastBack(count, x.shape, ax);
    const g = broadcastBack(dy, x.shape, ax);
    run('binary', [BINARY_OPS.mul, g, hit, g, x.size, null], x.size);
    run('binary', [BINARY_OPS.div, g, share, g, x.size, null], x.size);
    [m, hit, count, share].forEach((t) => t.dispose());
    return [g];
  });
}

/** Sums `x` down to `shape`, which x's shape broadcasts from. Returns x itself if already there. */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const lead = x.rank - shape.length;
  if (lead < 0) throw new Error(`sumTo: cannot reduce ${fmt(x.shape)} to ${fmt(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    const target = i < lead ? 1 : shape[i - lead];
    if (i < lead || (target === 1 && x.shape[i] !== 1)) axes.push(i);
    else if (target !== x.shape[i]) throw new Error(`sumTo: cannot reduce ${fmt(x.shape)} to ${fmt(shape)}`);
  }
  // Leading axes are summed away, the others kept as size 1: the result has exactly `shape`.
  return composite([x], () => {
    const dropped = lead > 0 ? sum(x, [...Array(lead).keys()]) : x;
    const rest = axes.filter((a) => a >= lead).map((a) => a - lead);
    return rest.length > 0 ? sum(dropped, rest, { keepDims: true }) : dropped;
  });
}

/** Reduces `axes` (sorted) of x: kept axes become rows, reduced axes columns. */
function reduce(op: ReduceOp, x: Tensor, axes: number[], keepDims = false): Tensor {
  if (x.dtype !== 'float32') throw new Error(`${op}: expects float32, got ${x.dtype} ${fmt(x.shape)}`);
  const kept = [...x.shape.keys()].filter((a) => !axes.includes(a));
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept.map((a) => x.shape[a]);
  const rows = sizeOf(kept.map((a) => x.shape[a]));
  const cols = sizeOf(axes.map((a) => x.shape[a]));
  const out = empty(outShape);
  if (rows === 0) return out;
  if (cols === 0) {
    run('fill', [out, out.size, op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity], out.size);
    return out;
  }
  const leading = axes.every((a, i) => a === i);
  if (op === 'sum' && leading && x.isContiguous) {
    run('reduceCols', [x, out, cols, rows], x.size);
    return out;
  }
  const order = [...kept, ...axes];
  const permuted = x.view(order.map((a) => x.shape[a]), order.map((a) => x.strides[a]));
  const data = permuted.isContiguous ? permuted : copyContiguous(permuted);
  run('reduceRows', [CODE[op], data, out, rows, cols], x.size);
  if (data !== permuted) data.dispose();
  permuted.dispose();
  return out;
}

/** A contiguous copy of dy (reduced over `axes` of `shape`) broadcast back to `shape`. */
function broadcastBack(dy: Tensor, shape: Shape, axes: number[]): Tensor {
  const keepShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const dyc = dy.isContiguous ? dy : copyContiguous(dy);
  const ks = contiguousStrides(keepShape);
  const v = dyc.view(shape, shape.map((d, i) => (keepShape[i] === 1 && d !== 1 ? 0 : ks[i])));
  const out = copyContiguous(v);
  v.dispose();
  if (dyc !== dy) dyc.dispose();
  return out;
}
