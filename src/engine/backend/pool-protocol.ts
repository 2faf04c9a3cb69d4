/** What the pool's caller (thread 0) and its kernel threads share; calls go through a SyncChannel on `control`. */

/** Kernel names in a fixed order both sides derive from the same module. */
export function kernelNames(exports: object): string[] {
  return Object.keys(exports)
    .filter((k) => typeof (exports as Record<string, unknown>)[k] === 'function')
    .sort();
}

export interface WorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** The SyncChannel's block, with the share counts after it (pool-shares.ts). */
  control: SharedArrayBuffer;
  tid: number;
}

/** Calls a kernel without building an argument array for the common arities. */
export function callKernel(fn: (...a: number[]) => unknown, tid: number, nt: number, args: Float64Array, n: number): void {
  switch (n) {
    case 0: fn(tid, nt); break;
    case 1: fn(tid, nt, args[0]); break;
    case 2: fn(tid, nt, args[0], args[1]); break;
    case 3: fn(tid, nt, args[0], args[1], args[2]); break;
    case 4: fn(tid, nt, args[0], args[1], args[2], args[3]); break;
    case 5: fn(tid, nt, args[0], args[1], args[2], args[3], args[4]); break;
    case 6: fn(tid, nt, args[0], args[1], args[2], args[3], args[4], args[5]); break;
    case 7: fn(tid, nt, args[0], args[1], args[2], args[3], args[4], args[5], args[6]); break;
    case 8: fn(tid, nt, args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7]); break;
    default: fn(tid, nt, ...args.subarray(0, n));
  }
}
