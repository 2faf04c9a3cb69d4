import { KernelExports } from './kernel-module.js';
export declare class Pool {
    #private;
    readonly threads: number;
    readonly exports: KernelExports;
    constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number);
    /**
     * Runs `kernel(tid, nt, ...args)` on nt threads, nt chosen from `work` (≈ scalar operations):
     * small calls stay on the caller's thread, where waking workers would cost more than it saves.
     */
    run(kernel: string, args: readonly number[], work: number): void;
    close(): void;
}
