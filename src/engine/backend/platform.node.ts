/** Node.js specifics of the engine: threads, files, relaxed SIMD switch. */
import v8 from 'node:v8';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { Platform } from './host.js';
import { nativeGemmProvider } from '../native/provider.js';
import { onnxruntimeNodeInstalled } from '../native/onnxruntime-node.js';

export const platform: Platform = {
  name: 'node',
  canBlock: true,
  syncStart: true,
  defaultThreads: () => os.availableParallelism(),
  // Node 20 ships relaxed SIMD behind a flag; it must be set before any module is compiled.
  enableRelaxedSimd: () => v8.setFlagsFromString('--experimental-wasm-relaxed-simd'),
  readBinary: (url) => new Uint8Array(readFileSync(url)),
  fetchBinary: async (url) => new Uint8Array(await readFile(url)),
  env: (name) => process.env[name],
  assertSharedMemory: () => {},
  /** The worker does not keep the process alive. */
  startPoolThread(data, onError) {
    const w = new Worker(new URL('./pool-worker.node.js', import.meta.url), { workerData: data });
    w.on('error', onError);
    w.unref();
    return { terminate: () => void w.terminate() };
  },
  // onnxruntime-node's GEMM, started on demand (see src/engine/native); absent where npm left it out.
  nativeGemmFactory: () => (onnxruntimeNodeInstalled() ? nativeGemmProvider : undefined),
  gpuAdapter: async () => (await import('./webgpu/node-adapter.js')).nodeGpuAdapter(),
};
