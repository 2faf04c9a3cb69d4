/**
 * n-d tensors of float32 or int32, row-major, whose storage lives in the backend's arena.
 * Views (reshape, permute, slice, broadcast) share storage; storage is freed when the last
 * view over it is disposed.
 */
import { DType, TypedArrayFor } from './backend/backend.js';
import { backend } from './engine.js';
import { track } from './scope.js';
import { contiguousStrides, fmt, Shape, sizeOf, checkShape } from './shape.js';
import { describeTensor } from './inspect.js';

/** How a tensor was computed (see autograd.ts): its inputs and its vector-Jacobian product. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Given dL/d(output), returns dL/d(input) for each input (null where not needed). */
  readonly backward: (dy: Tensor) => readonly (Tensor | null)[];
}

class Storage {
  refs = 0;
  constructor(readonly handle: number, readonly bytes: number) {}
}

export class Tensor {
  readonly shape: Shape;
  readonly strides: Shape;
  /** Offset of element 0 into the storage, in elements. */
  readonly offset: number;
  readonly dtype: DType;
  readonly size: number;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** How this tensor was computed, for backward (null for leaves and under noGrad). */
  node: GradNode | null = null;
  #storage: Storage;
  #disposed = false;

  private constructor(storage: Storage, shape: Shape, strides: Shape, offset: number, dtype: DType) {
    this.#storage = storage;
    storage.refs++;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze([...strides]);
    this.offset = offset;
    this.dtype = dtype;
    this.size = sizeOf(shape);
    track(this);
  }

  /** A new, uninitialised contiguous tensor. */
  static empty(shape: Shape, dtype: DType = 'float32'): Tensor {
    checkShape('empty', shape);
    const bytes = sizeOf(shape) * 4;
    const storage = new Storage(backend().alloc(bytes), bytes);
    return new Tensor(storage, shape, contiguousStrides(shape), 0, dtype);
  }

  /** A tensor holding a copy of `data`. */
  static from(data: Float32Array | Int32Array | readonly number[], shape?: Shape, dtype?: DType): Tensor {
    const type: DType = dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
    const s = shape ?? [data.length];
    if (sizeOf(s) !== data.length) throw new Error(`tensor: ${data.length} values do not fill shape ${fmt(s)}`);
    const t = Tensor.empty(s, type);
    const typed = type === 'float32' ? Float32Array.from(data as ArrayLike<number>) : Int32Array.from(data as ArrayLike<number>);
    backend().write(t.addr, typed);
    return t;
  }

  /** A view of this tensor's storage with another layout (no copy; caller checks bounds). */
  view(shape: Shape, strides: Shape, offset: number = this.offset): Tensor {
    this.#check('view');
    return new Tensor(this.#storage, shape, strides, offset, this.dtype);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** Byte address of element 0, for kernel calls. */
  get addr(): number {
    this.#check('use');
    return this.#storage.handle + this.offset * 4;
  }

  /** True when the elements are laid out row-major without gaps. */
  get isContiguous(): boolean {
    let s = 1;
    for (let i = this.rank - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== s) return false;
      s *= this.shape[i];
    }
    return true;
  }

  /** Whether another tensor shares this one's storage. */
  sharesStorage(other: Tensor): boolean {
    return this.#storage === other.#storage;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // The node stays: a later backward through this tensor either needs none of its data, or
    // fails with a clear 'disposed' error when it does.
    if (--this.#storage.refs === 0) backend().free(this.#storage.handle);
  }

  /** The values, copied out in row-major order. */
  toArray(): TypedArrayFor<DType> {
    this.#check('read');
    if (this.isContiguous) return backend().read(this.addr, this.size, this.dtype);
    // A view: read the span it covers and walk its strides here (reads are not a hot path).
    let span = 1;
    this.shape.forEach((d, i) => (span += d > 0 ? (d - 1) * this.strides[i] : 0));
    const base = backend().read(this.addr, this.size === 0 ? 0 : span, this.dtype);
    const out = this.dtype === 'float32' ? new Float32Array(this.size) : new Int32Array(this.size);
    const index = new Array<number>(this.rank).fill(0);
    for (let i = 0; i < this.size; i++) {
      let at = 0;
      for (let a = 0; a < this.rank; a++) at += index[a] * this.strides[a];
      out[i] = base[at];
      for (let a = this.rank - 1; a >= 0 && ++index[a] === this.shape[a]; a--) index[a] = 0;
    }
    return out;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor of shape ${fmt(this.shape)} has ${this.size} elements, not 1`);
    return this.toArray()[0];
  }

  toString(): string {
    return `Tensor(${this.dtype}, ${fmt(this.shape)})`;
  }

  /** console.log and the Node REPL: shape, dtype and the first values ("disposed" once disposed). Symbol.for needs no node:util. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return describeTensor(this, (at) => backend().read(this.addr + at * 4, 1, this.dtype)[0]);
  }

  #check(what: string): void {
    if (this.#disposed) throw new Error(`${what}: tensor of shape ${fmt(this.shape)} was disposed`);
  }
}
