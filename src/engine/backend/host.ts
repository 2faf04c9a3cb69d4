/**
 * What the engine needs from its host (Node.js or a browser): the types only, so that the
 * platform modules, the pool and the backend can share them without importing one another.
 */
import type { LinearQ8Spec, MatmulSpec } from './backend.js';
import type { WorkerData } from './pool-protocol.js';

export interface ThreadHandle {
  terminate(): void;
}

/** A native GEMM the backend can hand large products to (onnxruntime-node in Node); operands by arena address. */
export interface NativeGemmProvider {
  supports(spec: MatmulSpec<number>): boolean;
  /** Whether this product is large enough that native beats WebAssembly (measured). */
  worthIt(spec: MatmulSpec<number>): boolean;
  matmul(spec: MatmulSpec<number>): void;
  /** Whether this 8-bit product goes native: its layout fits, and it is large enough to gain (or `forced`). */
  takesQ8(spec: LinearQ8Spec<number>, forced: boolean): boolean;
  linearQ8(spec: LinearQ8Spec<number>): void;
  close(): void;
}

export type NativeGemmFactory = (memory: WebAssembly.Memory, threads: number) => NativeGemmProvider;

export interface Platform {
  readonly name: 'node' | 'browser';
  /**
   * Whether this thread may sleep in Atomics.wait: true in Node and in Web Workers, false on a
   * browser window's main thread, where it throws.
   */
  readonly canBlock: boolean;
  /**
   * Whether kernel threads can start while this thread blocks (Node: yes). A browser worker
   * starts only after its creator returns to the event loop, so pools start asynchronously there.
   */
  readonly syncStart: boolean;
  defaultThreads(): number;
  /** Must run before any module is compiled (Node 20 keeps relaxed SIMD behind a V8 flag). */
  enableRelaxedSimd(): void;
  /** Synchronous read: Node only (browsers have no synchronous fetch of binaries). */
  readBinary(url: URL): Uint8Array<ArrayBuffer>;
  fetchBinary(url: URL): Promise<Uint8Array<ArrayBuffer>>;
  env(name: string): string | undefined;
  /** Throws an error that says how to get shared memory where the host withholds it. */
  assertSharedMemory(): void;
  /** Starts one kernel thread running pool-worker's serve() with `data`. */
  startPoolThread(data: WorkerData, onError: (e: Error) => void): ThreadHandle;
  nativeGemmFactory(): NativeGemmFactory | undefined;
  /** A WebGPU adapter, or what is missing for one (the message a user sees). */
  gpuAdapter(): Promise<GpuAdapterResult>;
}

export type GpuAdapterResult = { adapter: GPUAdapter } | { missing: string };
