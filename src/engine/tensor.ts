/**
 * n-d tensors of float32 or int32, row-major, whose storage lives in the backend's arena.
 * Views (reshape, permute, slice, broadcast) share storage; storage is freed when the last
 * view over it is disposed.
 */
import { noSyncRead, type BufferRef, type DType, type Handle, type TypedArrayFor } from './backend/backend.js';
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
  constructor(readonly handle: Handle, readonly bytes: number) {}
}

/** A tensor is a BufferRef: ops pass tensors to kernels, and the backend resolves them. */
export class Tensor implements BufferRef {
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
    const storage = new Storage(backend().allocate(bytes), bytes);
    return new Tensor(storage, shape, contiguousStrides(shape), 0, dtype);
  }

  /** A tensor holding a copy of `data`. */
  static from(data: Float32Array | Int32Array | readonly number[], shape?: Shape, dtype?: DType): Tensor {
    const type: DType = dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
    const s = shape ?? [data.length];
    if (sizeOf(s) !== data.length) throw new Error(`tensor: ${data.length} values do not fill shape ${fmt(s)}`);
    const t = Tensor.empty(s, type);
    const typed = type === 'float32' ? Float32Array.from(data as ArrayLike<number>) : Int32Array.from(data as ArrayLike<number>);
    backend().write(t, typed);
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

  /** The backend's handle of the storage (checked: a disposed tensor has none). */
  get handle(): Handle {
    this.#check('use');
    return this.#storage.handle;
  }

  /** Where element 0 lies in the storage, in bytes. */
  get byteOffset(): number {
    return this.offset * 4;
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

  /** The values, copied out in row-major order (CPU backends; elsewhere `await read()`). */
  toArray(): TypedArrayFor<DType> {
    this.#check('read');
    const b = backend();
    if (!b.canReadSync) throw noSyncRead(b.name);
    return this.#gather(b.readSync(this, this.#span(), this.dtype));
  }

  /** The values, copied out in row-major order, on any backend. */
  async read(): Promise<TypedArrayFor<DType>> {
    this.#check('read');
    return this.#gather(await backend().read(this, this.#span(), this.dtype));
  }

  /** The single value of a one-element tensor (CPU backends; elsewhere `await itemAsync()`). */
  item(): number {
    this.#checkScalar();
    return this.toArray()[0];
  }

  async itemAsync(): Promise<number> {
    this.#checkScalar();
    return (await this.read())[0];
  }

  toString(): string {
    return `Tensor(${this.dtype}, ${fmt(this.shape)})`;
  }

  /** console.log and the Node REPL: shape, dtype and the first values ("disposed" once disposed). Symbol.for needs no node:util. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const b = backend();
    if (!b.canReadSync) return `Tensor ${fmt(this.shape)} ${this.dtype} (on ${b.name}: await read())`;
    return describeTensor(this, (at) => b.readSync({ handle: this.handle, byteOffset: this.byteOffset + at * 4 }, 1, this.dtype)[0]);
  }

  /** Elements from element 0 to the last one this view reaches. */
  #span(): number {
    if (this.isContiguous || this.size === 0) return this.size;
    let span = 1;
    this.shape.forEach((d, i) => (span += (d - 1) * this.strides[i]));
    return span;
  }

  /** This view's elements in row-major order, from the span read out of its storage. */
  #gather(base: TypedArrayFor<DType>): TypedArrayFor<DType> {
    if (this.isContiguous) return base;
    // Reads are not a hot path: walk the strides here.
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

  #checkScalar(): void {
    if (this.size !== 1) throw new Error(`item: tensor of shape ${fmt(this.shape)} has ${this.size} elements, not 1`);
  }

  #check(what: string): void {
    if (this.#disposed) throw new Error(`${what}: tensor of shape ${fmt(this.shape)} was disposed`);
  }
}
