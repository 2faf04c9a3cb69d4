/** How ops call kernels: contiguous inputs, fresh outputs, strided descriptors. */
import { backend } from '../engine.js';
import type { BufferRef, DType } from '../backend/backend.js';
import type { KernelArgs, KernelName } from '../backend/kernel-table.js';
import { Shape } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Runs a kernel of the table with typed arguments (tensors pass as buffers). */
export function run<K extends KernelName>(kernel: K, args: KernelArgs<K>, work: number): void {
  backend().dispatch(kernel, args, work);
}

export function empty(shape: Shape, dtype: DType = 'float32'): Tensor {
  return Tensor.empty(shape, dtype);
}

/**
 * Writes a strided descriptor `[rank, shape…, strides…(per input)]` into the arena for the
 * duration of `fn`. Dimensions of size 1 are dropped and adjacent dimensions that are
 * contiguous in every input are merged, so kernels see the simplest equivalent layout.
 */
export function withDescriptor<T>(shape: Shape, strides: readonly Shape[], fn: (desc: BufferRef) => T): T {
  const [s, st] = collapse(shape, strides);
  const data = new Int32Array(1 + s.length * (1 + st.length));
  data[0] = s.length;
  data.set(s, 1);
  st.forEach((x, i) => data.set(x, 1 + s.length * (1 + i)));
  const b = backend();
  const handle = b.allocate(data.byteLength);
  try {
    const desc = { handle, byteOffset: 0 };
    b.write(desc, data);
    return fn(desc);
  } finally {
    b.free(handle);
  }
}

function collapse(shape: Shape, strides: readonly Shape[]): [number[], number[][]] {
  const s: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && strides.every((x, i) => st[i][last] === x[d] * shape[d])) {
      s[last] *= shape[d];
      strides.forEach((x, i) => (st[i][last] = x[d]));
    } else {
      s.push(shape[d]);
      strides.forEach((x, i) => st[i].push(x[d]));
    }
  }
  if (s.length === 0) {
    s.push(1);
    st.forEach((x) => x.push(0));
  }
  return [s, st];
}

/** Strides that read `t` as if it had `shape` (NumPy broadcasting: 0 on expanded axes). */
export function broadcastStrides(t: Tensor, shape: Shape): number[] {
  const lead = shape.length - t.rank;
  return shape.map((_, i) => (i < lead || t.shape[i - lead] === 1 ? 0 : t.strides[i - lead]));
}

/** Copies any view into a fresh contiguous tensor. */
export function copyContiguous(t: Tensor): Tensor {
  const out = empty(t.shape, t.dtype);
  if (t.size > 0) withDescriptor(t.shape, [t.strides], (desc) => run('copyStrided', [t, out, t.size, desc], t.size));
  return out;
}

/** `t` itself when contiguous, else a contiguous copy (which the caller owns). */
export function contiguousData(t: Tensor): Tensor {
  return t.isContiguous ? t : copyContiguous(t);
}

/** Runs fn on contiguous versions of the inputs, disposing any copies it had to make. */
export function withContiguous<T>(inputs: readonly Tensor[], fn: (...xs: Tensor[]) => T): T {
  const xs = inputs.map(contiguousData);
  try {
    return fn(...xs);
  } finally {
    xs.forEach((x, i) => x !== inputs[i] && x.dispose());
  }
}

/** Copies x into the slab of `out` that starts at `start` along `axis` (same shape elsewhere). */
export function copyInto(out: Tensor, x: Tensor, axis: number, start: number): void {
  if (x.size === 0) return;
  const dest = out.view(x.shape, out.strides, out.offset + start * out.strides[axis]);
  copyToView(dest, x);
  dest.dispose();
}

/** Copies x's elements into `dest`, a view of x's shape over any strides. */
export function copyToView(dest: Tensor, x: Tensor): void {
  if (x.size === 0) return;
  withContiguous([x], (xc) =>
    withDescriptor(x.shape, [dest.strides], (desc) => run('copyToStrided', [xc, dest, x.size, desc], x.size)),
  );
}

/** A contiguous copy of the elements start ≤ i < end along `axis`. */
export function copySlab(x: Tensor, axis: number, start: number, end: number): Tensor {
  const v = x.view(x.shape.map((d, i) => (i === axis ? end - start : d)), x.strides, x.offset + start * x.strides[axis]);
  const out = copyContiguous(v);
  v.dispose();
  return out;
}
