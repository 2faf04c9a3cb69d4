/**
 * Loads the WebAssembly kernels: the relaxed-SIMD (FMA) build where the runtime validates it,
 * the plain SIMD build otherwise. The probe is the real module, so it cannot disagree with use.
 * The host is passed in (not imported) so that kernel threads, which only instantiate, load no
 * platform code.
 */
import type { Platform } from './host.js';

export type KernelBuild = 'relaxed' | 'simd';

export interface KernelModule {
  build: KernelBuild;
  module: WebAssembly.Module;
}

const SIMD_MISSING = 'engine: this runtime cannot run WebAssembly 128-bit SIMD, which the kernels need';

/** Literal `new URL(…, import.meta.url)` calls, the form bundlers recognise as assets. */
function kernelUrl(build: KernelBuild): URL {
  return build === 'relaxed'
    ? new URL('../../../kernels/relaxed.wasm', import.meta.url)
    : new URL('../../../kernels/simd.wasm', import.meta.url);
}

/** Synchronous load (Node): compiles on this thread. */
export function loadKernelModule(host: Platform, prefer: KernelBuild = 'relaxed'): KernelModule {
  if (prefer === 'relaxed') {
    host.enableRelaxedSimd();
    const bytes = host.readBinary(kernelUrl('relaxed'));
    if (WebAssembly.validate(bytes)) return { build: 'relaxed', module: new WebAssembly.Module(bytes) };
  }
  const bytes = host.readBinary(kernelUrl('simd'));
  if (!WebAssembly.validate(bytes)) throw new Error(SIMD_MISSING);
  return { build: 'simd', module: new WebAssembly.Module(bytes) };
}

/** Asynchronous load (browsers, and Node through initEngine): fetches and compiles off the caller's stack. */
export async function loadKernelModuleAsync(host: Platform, prefer: KernelBuild = 'relaxed'): Promise<KernelModule> {
  if (prefer === 'relaxed') {
    host.enableRelaxedSimd();
    const bytes = await host.fetchBinary(kernelUrl('relaxed'));
    if (WebAssembly.validate(bytes)) return { build: 'relaxed', module: await WebAssembly.compile(bytes) };
  }
  const bytes = await host.fetchBinary(kernelUrl('simd'));
  if (!WebAssembly.validate(bytes)) throw new Error(SIMD_MISSING);
  return { build: 'simd', module: await WebAssembly.compile(bytes) };
}

/** Exported kernel functions, by name. Every kernel takes (tid, nt, ...args). */
export type KernelExports = Record<string, (...args: number[]) => number | void>;

export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: (_msg: number, _file: number, line: number, col: number) => {
        throw new Error(`kernel abort at ${line}:${col}`);
      },
      seed: () => 0,
    },
  });
  return instance.exports as unknown as KernelExports;
}
