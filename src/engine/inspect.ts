/**
 * How a tensor prints in Node (console.log, the REPL): shape, dtype and its first values, e.g.
 * `Tensor [2, 3] float32 [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]`. Only the elements shown are read, so
 * printing a large tensor copies nothing else out of the arena.
 */
import type { DType } from './backend/backend.js';
import { fmt, Shape } from './shape.js';

/** What printing needs of a tensor (structural, so this file need not import tensor.ts). */
export interface Printable {
  readonly shape: Shape;
  readonly strides: Shape;
  readonly dtype: DType;
  readonly isDisposed: boolean;
}

/** Values shown along the last axis, and entries along the others, before '…'. */
const LAST_AXIS = 6;
const OTHER_AXES = 3;

/** `valueAt(offset)`: the element `offset` elements past the tensor's first one. */
export function describeTensor(t: Printable, valueAt: (offset: number) => number): string {
  const head = `Tensor ${fmt(t.shape)} ${t.dtype}`;
  if (t.isDisposed) return `${head} (disposed)`;
  const value = (offset: number) => {
    const x = valueAt(offset);
    return t.dtype === 'float32' ? String(Number(x.toPrecision(4))) : String(x);
  };
  const nest = (axis: number, offset: number): string => {
    if (axis === t.shape.length) return value(offset);
    const d = t.shape[axis];
    const shown = Math.min(d, axis === t.shape.length - 1 ? LAST_AXIS : OTHER_AXES);
    const items = Array.from({ length: shown }, (_, i) => nest(axis + 1, offset + i * t.strides[axis]));
    return `[${items.join(', ')}${d > shown ? ', …' : ''}]`;
  };
  return t.shape.includes(0) ? `${head} []` : `${head} ${nest(0, 0)}`;
}
