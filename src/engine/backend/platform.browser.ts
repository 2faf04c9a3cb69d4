/** Browser specifics of the engine (the browser build is future work: see DESIGN.md layer 8). */
import type { NativeGemmProvider } from './wasm-backend.js';

export const platformName = 'browser';

/** Chrome ≥ 114 ships relaxed SIMD by default; nothing to switch on. */
export function enableRelaxedSimd(): void {}

export function defaultThreads(): number {
  return globalThis.navigator?.hardwareConcurrency ?? 1;
}

export function readBinary(_url: URL): Uint8Array<ArrayBuffer> {
  throw new Error('engine: synchronous kernel loading is not available in browsers yet');
}

export function env(_name: string): string | undefined {
  return undefined;
}

export interface ThreadHandle {
  terminate(): void;
}

export function startThread(_url: URL, _data: unknown, _onError: (e: Error) => void): ThreadHandle {
  throw new Error('engine: browser worker threads are not wired up yet');
}

export function nativeGemmFactory(): ((memory: WebAssembly.Memory, threads: number) => NativeGemmProvider) | undefined {
  return undefined;
}
