/**
 * The engine's view of its host (Node.js or a browser), chosen once when this module loads.
 *
 * Why not a static `import … from '#platform'`: browsers do not resolve package.json "imports",
 * so it would fail to link in an unbundled page and in module Web Workers (which have no import
 * maps). The browser platform is imported statically (it is host-neutral code); the Node one is
 * imported dynamically and only in Node, through `#platform`, so a bundler resolving it for
 * browsers picks platform.browser.js by the "default" condition and no node:* module or
 * onnxruntime-node reaches a browser bundle.
 *
 * The top-level await runs only in Node. In browsers no await is reached, so the engine's modules
 * finish evaluating within the task that loads them: a module worker that imports the engine and
 * then listens for 'message' does not miss messages posted to it at once (an await on a fetch here
 * would let them be dispatched before the listener exists).
 */
import { platform as browserPlatform } from './platform.browser.js';
import type { NativeGemmProvider } from './wasm-backend.js';
import type { WorkerData } from './pool-protocol.js';

export interface ThreadHandle {
  terminate(): void;
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
}

const inNode = typeof process === 'object' && typeof process.versions?.node === 'string';

export const platform: Platform = inNode ? (await import('#platform')).platform : browserPlatform;
