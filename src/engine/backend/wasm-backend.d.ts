/** The WebAssembly backend: the arena, the kernel thread pool, and the GEMM choice. */
import { Arena } from './arena.js';
import { Backend, DType, GemmChoice, MatmulSpec, TypedArrayFor } from './backend.js';
import { KernelBuild } from './kernel-module.js';
export interface WasmBackendOptions {
    threads: number;
    gemm: GemmChoice;
    build?: KernelBuild;
}
/** A native GEMM the backend can hand large products to (onnxruntime-node in Node). */
export interface NativeGemmProvider {
    supports(spec: MatmulSpec): boolean;
    /** Whether this product is large enough that native beats WebAssembly (measured). */
    worthIt(spec: MatmulSpec): boolean;
    matmul(spec: MatmulSpec): void;
    close(): void;
}
export declare class WasmBackend implements Backend {
    #private;
    readonly name = "wasm";
    readonly build: KernelBuild;
    readonly arena: Arena;
    constructor(options: WasmBackendOptions, native?: (memory: WebAssembly.Memory, threads: number) => NativeGemmProvider);
    get threads(): number;
    get gemm(): GemmChoice;
    /** Restarts the kernel threads with a new count; the arena and its data are kept. */
    setThreads(threads: number): void;
    alloc(bytes: number): number;
    free(handle: number): void;
    get bytesInUse(): number;
    get peakBytes(): number;
    resetPeak(): void;
    read<D extends DType>(addr: number, length: number, dtype: D): TypedArrayFor<D>;
    write(addr: number, data: Float32Array | Int32Array): void;
    run(kernel: string, args: readonly number[], work: number): void;
    matmul(spec: MatmulSpec): void;
    get hasNativeGemm(): boolean;
    /** The native GEMM, bypassing the size heuristic (benchmarks compare the two). */
    nativeMatmul(spec: MatmulSpec): void;
    /** The WebAssembly GEMM, bypassing the native choice (benchmarks compare the two). */
    wasmMatmul(spec: MatmulSpec): void;
    close(): void;
}
