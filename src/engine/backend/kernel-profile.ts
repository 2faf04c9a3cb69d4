/**
 * Where a CPU backend's time goes, per kernel: calls and milliseconds, kept while profiling is on.
 * WebAssembly kernels finish inside dispatch, so the wall time around a call is the kernel's own
 * (threads included); what a step spends outside every kernel is the engine's JavaScript (autograd,
 * allocation, argument marshalling) and the host's.
 */
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS } from './op-codes.js';

/** The op tables of the kernels whose first argument is an op code: a profile names the op. */
const OP_NAMES: Record<string, Record<number, string>> = {
  unary: invert(UNARY_OPS), unaryGrad: invert(UNARY_OPS), binary: invert(BINARY_OPS), reduceRows: invert(REDUCE_OPS),
};

function invert(table: Record<string, number>): Record<number, string> {
  return Object.fromEntries(Object.entries(table).map(([name, code]) => [code, name]));
}

/** `kernel`, or `kernel(op)` for the kernels that take an op code first. */
export function profileLabel(kernel: string, firstArg: unknown): string {
  const names = OP_NAMES[kernel];
  return names && typeof firstArg === 'number' ? `${kernel}(${names[firstArg] ?? firstArg})` : kernel;
}

export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
  /** Floating-point operations done (matrix products only; 0 for the rest). */
  flops: number;
}

export class KernelProfile {
  readonly #times = new Map<string, KernelTime>();

  add(kernel: string, ms: number, flops = 0): void {
    const t = this.#times.get(kernel);
    if (t) {
      t.calls++;
      t.ms += ms;
      t.flops += flops;
    } else this.#times.set(kernel, { kernel, calls: 1, ms, flops });
  }

  /** Every kernel that ran, the most time first. */
  entries(): KernelTime[] {
    return [...this.#times.values()].sort((a, b) => b.ms - a.ms);
  }
}
