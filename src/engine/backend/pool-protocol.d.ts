/**
 * The shared control block between the pool's caller (thread 0) and its workers.
 * One kernel call at a time: the caller writes the kernel id and arguments, bumps GEN and
 * wakes the workers; each worker runs its share and bumps DONE.
 */
export declare const GEN = 0;
export declare const DONE = 1;
export declare const KERNEL = 2;
export declare const NARGS = 3;
export declare const NT = 4;
export declare const STOP = 5;
export declare const READY = 6;
export declare const FAILED = 7;
export declare const ARGS_OFFSET = 64;
export declare const MAX_ARGS = 32;
export declare const CONTROL_BYTES: number;
/** Spin iterations before sleeping in Atomics.wait: a wake-up costs tens of microseconds. */
export declare const SPIN = 20000;
/** Kernel names in a fixed order both sides derive from the same module. */
export declare function kernelNames(exports: object): string[];
export interface WorkerData {
    module: WebAssembly.Module;
    memory: WebAssembly.Memory;
    control: SharedArrayBuffer;
    tid: number;
}
/** Calls a kernel without building an argument array for the common arities. */
export declare function callKernel(fn: (...a: number[]) => unknown, tid: number, nt: number, args: Float64Array, n: number): void;
