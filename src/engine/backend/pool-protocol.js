/**
 * The shared control block between the pool's caller (thread 0) and its workers.
 * One kernel call at a time: the caller writes the kernel id and arguments, bumps GEN and
 * wakes the workers; each worker runs its share and bumps DONE.
 */
export const GEN = 0; // call generation, bumped once per call
export const DONE = 1; // workers finished with the current call
export const KERNEL = 2; // index into kernelNames()
export const NARGS = 3;
export const NT = 4; // threads taking part in this call (tids ≥ NT skip it)
export const STOP = 5; // set to shut the workers down
export const READY = 6; // workers that have instantiated the module
export const FAILED = 7; // 1 + tid of a worker whose kernel threw, 0 if none
export const ARGS_OFFSET = 64; // bytes; Float64Array of arguments from here
export const MAX_ARGS = 32;
export const CONTROL_BYTES = ARGS_OFFSET + 8 * MAX_ARGS;
/** Spin iterations before sleeping in Atomics.wait: a wake-up costs tens of microseconds. */
export const SPIN = 20000;
/** Kernel names in a fixed order both sides derive from the same module. */
export function kernelNames(exports) {
    return Object.keys(exports)
        .filter((k) => typeof exports[k] === 'function')
        .sort();
}
/** Calls a kernel without building an argument array for the common arities. */
export function callKernel(fn, tid, nt, args, n) {
    switch (n) {
        case 0:
            fn(tid, nt);
            break;
        case 1:
            fn(tid, nt, args[0]);
            break;
        case 2:
            fn(tid, nt, args[0], args[1]);
            break;
        case 3:
            fn(tid, nt, args[0], args[1], args[2]);
            break;
        case 4:
            fn(tid, nt, args[0], args[1], args[2], args[3]);
            break;
        case 5:
            fn(tid, nt, args[0], args[1], args[2], args[3], args[4]);
            break;
        case 6:
            fn(tid, nt, args[0], args[1], args[2], args[3], args[4], args[5]);
            break;
        case 7:
            fn(tid, nt, args[0], args[1], args[2], args[3], args[4], args[5], args[6]);
            break;
        case 8:
            fn(tid, nt, args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7]);
            break;
        default: fn(tid, nt, ...args.subarray(0, n));
    }
}
//# sourceMappingURL=pool-protocol.js.map