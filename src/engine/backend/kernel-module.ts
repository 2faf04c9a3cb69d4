/**
 * Loads the WebAssembly kernels: the relaxed-SIMD (FMA) build where the runtime validates it,
 * the plain SIMD build otherwise. The probe is the real module, so it cannot disagree with use.
 */
import { enableRelaxedSimd, readBinary } from '#platform';

export type KernelBuild = 'relaxed' | 'simd';

export interface KernelModule {
  build: KernelBuild;
  module: WebAssembly.Module;
}

export function loadKernelModule(prefer: KernelBuild = 'relaxed'): KernelModule {
  if (prefer === 'relaxed') {
    enableRelaxedSimd();
    const bytes = readBinary(new URL('../../../kernels/relaxed.wasm', import.meta.url));
    if (WebAssembly.validate(bytes)) return { build: 'relaxed', module: new WebAssembly.Module(bytes) };
  }
  const bytes = readBinary(new URL('../../../kernels/simd.wasm', import.meta.url));
  if (!WebAssembly.validate(bytes)) {
    throw new Error('engine: this runtime cannot run WebAssembly 128-bit SIMD, which the kernels need');
  }
  return { build: 'simd', module: new WebAssembly.Module(bytes) };
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
