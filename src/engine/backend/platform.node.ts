/** Node.js specifics of the engine: threads, files, relaxed SIMD switch. */
import v8 from 'node:v8';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { NativeGemmProvider } from './wasm-backend.js';
import { nativeGemmProvider } from '../native/provider.js';

export const platformName = 'node';

/** Node 20 ships relaxed SIMD behind a flag; it must be set before any module is compiled. */
export function enableRelaxedSimd(): void {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

export function defaultThreads(): number {
  return os.availableParallelism();
}

export function readBinary(url: URL): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(url));
}

export function env(name: string): string | undefined {
  return process.env[name];
}

export interface ThreadHandle {
  terminate(): void;
}

/** Starts a worker thread that runs `url` with `data`; it does not keep the process alive. */
export function startThread(url: URL, data: unknown, onError: (e: Error) => void): ThreadHandle {
  const w = new Worker(url, { workerData: data });
  w.on('error', onError);
  w.unref();
  return { terminate: () => void w.terminate() };
}

/** onnxruntime-node's GEMM, started on demand (see src/engine/native). */
export function nativeGemmFactory(): ((memory: WebAssembly.Memory, threads: number) => NativeGemmProvider) | undefined {
  return nativeGemmProvider;
}
