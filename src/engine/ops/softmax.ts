/** Softmax and log-softmax over the last axis, with an optional additive mask. Kernels: reduce.ts. */
import { composite, record } from '../autograd.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';
import { add } from './binary.js';
import { empty, run, withContiguous } from './kernel.js';

export interface SoftmaxOptions {
  /** Added to x before normalising (broadcast), e.g. 0 / −1e9 or −Infinity for masked keys. */
  mask?: Tensor;
}

/** softmax(x + mask) along the last axis; a row masked entirely gives NaN, as in PyTorch. */
export function softmax(x: Tensor, options: SoftmaxOptions = {}): Tensor {
  return lastAxis('softmax', x, options.mask, 'softmaxRows', 'softmaxRowsGrad');
}

/** log softmax(x + mask) along the last axis. */
export function logSoftmax(x: Tensor, options: SoftmaxOptions = {}): Tensor {
  return lastAxis('logSoftmax', x, options.mask, 'logSoftmaxRows', 'logSoftmaxRowsGrad');
}

type RowKernel = 'softmaxRows' | 'logSoftmaxRows';
type RowGradKernel = 'softmaxRowsGrad' | 'logSoftmaxRowsGrad';

function lastAxis(op: string, x: Tensor, mask: Tensor | undefined, kernel: RowKernel, gradKernel: RowGradKernel): Tensor {
  if (x.rank === 0) throw new Error(`${op}: needs at least one axis, got a scalar`);
  if (x.dtype !== 'float32') throw new Error(`${op}: expects float32, got ${x.dtype} ${fmt(x.shape)}`);
  if (!mask) return rows(op, x, kernel, gradKernel);
  return composite([x, mask], () => {
    const input = add(x, mask);
    if (input.size !== x.size) throw new Error(`${op}: mask ${fmt(mask.shape)} broadcasts ${fmt(x.shape)} to ${fmt(input.shape)}`);
    return rows(op, input, kernel, gradKernel);
  });
}

/** The row kernel over the last axis of x, and its backward. */
function rows(op: string, x: Tensor, kernel: RowKernel, gradKernel: RowGradKernel): Tensor {
  const cols = x.shape[x.rank - 1];
  const rows = cols === 0 ? 0 : x.size / cols;
  const out = empty(x.shape);
  if (rows > 0) withContiguous([x], (xc) => run(kernel, [xc, out, rows, cols], x.size * 8));
  return record(out, op, [x], (dy) => [rowsAdjoint(out, dy, gradKernel)]);
}

/** softmax: dx = y⊙(dy − Σdy⊙y);  log-softmax: dx = dy − exp(y)·Σdy  (y the op's output). */
function rowsAdjoint(y: Tensor, dy: Tensor, gradKernel: RowGradKernel): Tensor {
  const cols = y.shape[y.rank - 1];
  const dx = empty(y.shape);
  if (y.size > 0) {
    withContiguous([y, dy], (yc, g) => run(gradKernel, [yc, g, dx, y.size / cols, cols], y.size * 4));
  }
  return dx;
}

/** The softmax's vector-Jacobian product from its output y, for fused ops' own backward. */
export const softmaxAdjoint = (y: Tensor, dy: Tensor) => rowsAdjoint(y, dy, 'softmaxRowsGrad');
