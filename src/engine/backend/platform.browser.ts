/**
 * Browser specifics of the engine. Kernel threads are module Web Workers sharing the arena's
 * WebAssembly.Memory, which needs a cross-origin isolated page (SharedArrayBuffer).
 */
import type { Platform } from './host.js';

/** Atomics.wait is allowed in dedicated and shared workers, never on a window's main thread. */
const inWorker = 'DedicatedWorkerGlobalScope' in globalThis || 'SharedWorkerGlobalScope' in globalThis;

export const platform: Platform = {
  name: 'browser',
  canBlock: inWorker,
  syncStart: false,
  defaultThreads: () => globalThis.navigator?.hardwareConcurrency ?? 1,
  // Chrome ≥ 114 and Firefox ≥ 120 ship relaxed SIMD by default; WebAssembly.validate decides.
  enableRelaxedSimd: () => {},
  readBinary: () => {
    throw new Error('engine: browsers cannot load the kernels synchronously; call `await initEngine()` first');
  },
  async fetchBinary(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`engine: fetching ${url} failed: ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  },
  env: () => undefined,
  assertSharedMemory() {
    if (globalThis.crossOriginIsolated !== true || typeof SharedArrayBuffer === 'undefined') {
      throw new Error(
        'engine: SharedArrayBuffer is unavailable because this page is not cross-origin isolated. ' +
          'Serve the page (and its workers) with the headers `Cross-Origin-Opener-Policy: same-origin` and ' +
          '`Cross-Origin-Embedder-Policy: require-corp` (or `credentialless`), over https or localhost.',
      );
    }
  },
  startPoolThread(data, onError) {
    // The literal `new Worker(new URL(…, import.meta.url))` is the pattern bundlers detect.
    const w = new Worker(new URL('./pool-worker.browser.js', import.meta.url), { type: 'module', name: `kernels-${data.tid}` });
    w.addEventListener('error', (e) => onError(new Error(`engine: kernel thread ${data.tid} failed: ${e.message || 'could not load its script'}`)));
    w.addEventListener('messageerror', () => onError(new Error(`engine: kernel thread ${data.tid} could not receive its data`)));
    w.postMessage(data);
    return { terminate: () => w.terminate() };
  },
  nativeGemmFactory: () => undefined,
  async gpuAdapter() {
    const gpu = globalThis.navigator?.gpu;
    if (!gpu) return { missing: 'WebGPU: this browser has no navigator.gpu (Chrome and Edge 113+, Safari 26+, Firefox 141+ on Windows; a secure context is required)' };
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    return adapter ? { adapter } : { missing: 'WebGPU: navigator.gpu gave no adapter (the GPU may be blocklisted or WebGPU disabled)' };
  },
};
