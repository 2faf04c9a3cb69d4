/**
 * The backend contract: everything ops need from a device, and nothing more. Buffers are
 * opaque numeric handles addressed by byte offset, so a WebGPU backend can satisfy it too.
 */
export type DType = 'float32' | 'int32';
export type TypedArrayFor<D extends DType> = D extends 'float32' ? Float32Array : Int32Array;
/** C[b] = alpha·op(A[b])·op(B[b]) + beta·C[b]; strides in elements, batch stride 0 broadcasts. */
export interface MatmulSpec {
    batch: number;
    m: number;
    n: number;
    k: number;
    a: number;
    aStrides: readonly [number, number, number];
    b: number;
    bStrides: readonly [number, number, number];
    c: number;
    alpha?: number;
    beta?: number;
}
export type GemmChoice = 'auto' | 'wasm' | 'native';
export interface Backend {
    readonly name: string;
    readonly threads: number;
    alloc(bytes: number): number;
    free(handle: number): void;
    readonly bytesInUse: number;
    readonly peakBytes: number;
    resetPeak(): void;
    /** A copy of `length` elements at byte address `addr`. */
    read<D extends DType>(addr: number, length: number, dtype: D): TypedArrayFor<D>;
    write(addr: number, data: Float32Array | Int32Array): void;
    /** Runs a kernel over the thread pool; `work` ≈ scalar operations, to decide on threading. */
    run(kernel: string, args: readonly number[], work: number): void;
    matmul(spec: MatmulSpec): void;
    close(): void;
}
