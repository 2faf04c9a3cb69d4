/** Views and layout changes: reshape, permute, transpose, slice, expand, contiguous. */
import { record } from '../autograd.js';
import { fmt, normAxis, Shape, sizeOf, contiguousStrides } from '../shape.js';
import { Tensor } from '../tensor.js';
import { broadcastStrides, copyContiguous, copyInto, copySlab } from './kernel.js';
import { zeros } from './creation.js';
import { sumTo } from './reduce.js';

export function contiguous(x: Tensor): Tensor {
  const out = x.isContiguous ? x.view(x.shape, x.strides) : copyContiguous(x);
  return record(out, 'contiguous', [x], (dy) => [dy]);
}

/** Same elements, new shape (one dimension may be −1). A view when the layout allows. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const target = inferShape(x, shape);
  const out = x.isContiguous ? x.view(target, contiguousStrides(target)) : reshapeCopy(x, target);
  return record(out, 'reshape', [x], (dy) => [reshape(dy, x.shape)]);
}

function reshapeCopy(x: Tensor, target: Shape): Tensor {
  const c = copyContiguous(x);
  const v = c.view(target, contiguousStrides(target));
  c.dispose();
  return v;
}

function inferShape(x: Tensor, shape: Shape): number[] {
  const free = shape.filter((d) => d === -1).length;
  const known = sizeOf(shape.filter((d) => d !== -1));
  const out = shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.size / known) : d));
  if (free > 1 || !out.every((d) => Number.isInteger(d) && d >= 0) || sizeOf(out) !== x.size) {
    throw new Error(`reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
  }
  return out;
}

export function permute(x: Tensor, axes: readonly number[]): Tensor {
  const perm = axes.map((a) => normAxis('permute', a, x.rank));
  if (perm.length !== x.rank || new Set(perm).size !== x.rank) {
    throw new Error(`permute: [${axes.join(', ')}] is not a permutation of the axes of ${fmt(x.shape)}`);
  }
  const out = x.view(perm.map((a) => x.shape[a]), perm.map((a) => x.strides[a]));
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return record(out, 'permute', [x], (dy) => [permute(dy, inverse)]);
}

/** Swaps two axes (default: the last two). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = [...x.shape.keys()];
  const i = normAxis('transpose', a, x.rank);
  const j = normAxis('transpose', b, x.rank);
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

/** Elements start ≤ i < end along `axis` (a view). */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normAxis('slice', axis, x.rank);
  const n = x.shape[ax];
  const s = start < 0 ? start + n : start;
  const e = end < 0 ? end + n : Math.min(end, n);
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || s > e) {
    throw new Error(`slice: range [${start}, ${end}) invalid for axis ${axis} of ${fmt(x.shape)}`);
  }
  const shape = x.shape.map((d, i) => (i === ax ? e - s : d));
  const out = x.view(shape, x.strides, x.offset + s * x.strides[ax]);
  return record(out, 'slice', [x], (dy) => [padAxis(dy, ax, s, n - e)]);
}

/** Broadcasts to `shape` without copying (expanded axes get stride 0). */
export function expand(x: Tensor, shape: Shape): Tensor {
  const lead = shape.length - x.rank;
  const ok = lead >= 0 && x.shape.every((d, i) => d === 1 || d === shape[lead + i]);
  if (!ok) throw new Error(`expand: cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`);
  const out = x.view(shape, broadcastStrides(x, shape));
  return record(out, 'expand', [x], (dy) => [sumTo(dy, x.shape)]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const ax = normAxis('unsqueeze', axis, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(ax, 0, 1);
  return reshape(x, shape);
}

export function squeeze(x: Tensor, axis: number): Tensor {
  const ax = normAxis('squeeze', axis, x.rank);
  if (x.shape[ax] !== 1) throw new Error(`squeeze: axis ${axis} of ${fmt(x.shape)} has size ${x.shape[ax]}, not 1`);
  return reshape(x, x.shape.filter((_, i) => i !== ax));
}


/** Zero padding along one axis (pad's building block, and slice's backward). */
export function padAxis(x: Tensor, axis: number, before: number, after: number): Tensor {
  const ax = normAxis('pad', axis, x.rank);
  const shape = x.shape.map((d, i) => (i === ax ? d + before + after : d));
  const out = zeros(shape, x.dtype);
  copyInto(out, x, ax, before);
  return record(out, 'pad', [x], (dy) => [copySlab(dy, ax, before, before + x.shape[ax])]);
}
