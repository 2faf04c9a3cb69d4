export type KernelBuild = 'relaxed' | 'simd';
export interface KernelModule {
    build: KernelBuild;
    module: WebAssembly.Module;
}
export declare function loadKernelModule(prefer?: KernelBuild): KernelModule;
/** Exported kernel functions, by name. Every kernel takes (tid, nt, ...args). */
export type KernelExports = Record<string, (...args: number[]) => number | void>;
export declare function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports;
