/**
 * The backend contract: everything ops need from a device, and nothing more. Storage is an
 * opaque handle from `allocate`; code outside the backend names data by a handle and a byte
 * offset into it (a `BufferRef`), never by an address, so a WebGPU backend can fill it too.
 */
import type { BufferRef, DType, Handle, TypedArrayFor } from './buffer.js';
import type { KernelArgs, KernelName } from './kernel-table.js';

export type { BufferRef, DType, Handle, TypedArrayFor } from './buffer.js';

/**
 * C[b] = alpha·op(A[b])·op(B[b]) + beta·C[b] (+ bias); strides in elements, batch stride 0
 * broadcasts. bias, a contiguous row of n, is added to every row of C last: the same bits as the
 * product followed by a separate add.
 */
export interface MatmulSpec<Ref = BufferRef> {
  batch: number;
  m: number;
  n: number;
  k: number;
  a: Ref; // A[0,0,0]
  aStrides: readonly [number, number, number]; // [batch, row (m), col (k)]
  b: Ref;
  bStrides: readonly [number, number, number]; // [batch, row (k), col (n)]
  c: Ref; // contiguous [batch, m, n]
  alpha?: number;
  beta?: number;
  bias?: Ref | null;
}

export type GemmChoice = 'auto' | 'wasm' | 'native';

/**
 * y [rows, n] = x [rows, k]·Wᵀ + bias, W as 8-bit codes (ops/quantized.ts): codes int32 [n, kPad/4]
 * (four int8 per word), scale float32 [n], sums int32 [n]; x and y contiguous float32.
 */
export interface LinearQ8Spec<Ref = BufferRef> {
  x: Ref;
  codes: Ref;
  scale: Ref;
  sums: Ref;
  bias: Ref | null;
  y: Ref;
  rows: number;
  k: number;
  n: number;
}

export interface Backend {
  readonly name: string;
  readonly threads: number;
  /** Whether `readSync` works here (CPU backends); a GPU backend only reads asynchronously. */
  readonly canReadSync: boolean;
  allocate(bytes: number): Handle;
  free(handle: Handle): void;
  readonly bytesInUse: number;
  readonly peakBytes: number;
  resetPeak(): void;
  /** A copy of `length` elements at `src`, once every dispatched kernel has written them. */
  read<D extends DType>(src: BufferRef, length: number, dtype: D): Promise<TypedArrayFor<D>>;
  /** `read` at once; throws on a backend that cannot (see canReadSync). */
  readSync<D extends DType>(src: BufferRef, length: number, dtype: D): TypedArrayFor<D>;
  write(dst: BufferRef, data: Float32Array | Int32Array): void;
  /** Runs a kernel of the table (kernel-table.ts); `work` ≈ scalar operations, to decide on threading. */
  dispatch<K extends KernelName>(kernel: K, args: KernelArgs<K>, work: number): void;
  matmul(spec: MatmulSpec): void;
  /** An 8-bit product: the quantizeRows and gemmQ8 kernels (linearQ8Kernels), or a native int8 GEMM where one is worth it. */
  linearQ8(spec: LinearQ8Spec): void;
  /** Resolves once every kernel dispatched so far has run (CPU backends: at once). Benchmarks time with it. */
  sync(): Promise<void>;
  close(): void;
}

/** The error a backend that cannot read synchronously throws from readSync. */
export function noSyncRead(backend: string): Error {
  return new Error(`engine: the ${backend} backend cannot read tensors synchronously; use \`await tensor.read()\` or \`await tensor.itemAsync()\``);
}
