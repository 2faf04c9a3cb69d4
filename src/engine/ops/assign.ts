/**
 * In-place writes, the one way code above the engine changes a tensor's values: parameters
 * loaded from a checkpoint, optimizer updates, a zeroed embedding row. Not recorded for autograd.
 */
import { backend } from '../engine.js';
import { fmt, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { copyToView } from './kernel.js';

/** Overwrites dst's elements (any view) with src's: a tensor of dst's shape and dtype, or host values in row-major order. */
export function assign(dst: Tensor, src: Tensor | Float32Array | Int32Array): void {
  if (src instanceof Tensor) {
    if (!sameShape(src.shape, dst.shape) || src.dtype !== dst.dtype) {
      throw new Error(`assign: source ${src.dtype} ${fmt(src.shape)} does not match destination ${dst.dtype} ${fmt(dst.shape)}`);
    }
    copyToView(dst, src);
    return;
  }
  const dtype = src instanceof Float32Array ? 'float32' : 'int32';
  if (src.length !== dst.size || dtype !== dst.dtype) {
    throw new Error(`assign: ${src.length} ${dtype} values do not fill destination ${dst.dtype} ${fmt(dst.shape)}`);
  }
  if (dst.isContiguous) backend().write(dst, src);
  else {
    const staged = Tensor.from(src, dst.shape, dtype);
    copyToView(dst, staged);
    staged.dispose();
  }
}
