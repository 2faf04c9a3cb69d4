/** How engine code names data on a backend: a dtype, an opaque handle, a byte offset into it. */
export type DType = 'float32' | 'int32';
export type TypedArrayFor<D extends DType> = D extends 'float32' ? Float32Array : Int32Array;

declare const handleBrand: unique symbol;
/** A backend's name for one allocation; only the backend that made it can interpret it. */
export type Handle = number & { readonly [handleBrand]: true };

/** Data at `byteOffset` bytes into the allocation `handle` (a tensor is one). */
export interface BufferRef {
  readonly handle: Handle;
  readonly byteOffset: number;
}
