/**
 * Where a CPU backend's time goes, per kernel: calls and milliseconds, kept while profiling is on.
 * WebAssembly kernels finish inside dispatch, so the wall time around a call is the kernel's own
 * (threads included); what a step spends outside every kernel is the engine's JavaScript (autograd,
 * allocation, argument marshalling) and the host's.
 */
export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

export class KernelProfile {
  readonly #times = new Map<string, KernelTime>();

  add(kernel: string, ms: number): void {
    const t = this.#times.get(kernel);
    if (t) {
      t.calls++;
      t.ms += ms;
    } else this.#times.set(kernel, { kernel, calls: 1, ms });
  }

  /** Every kernel that ran, the most time first. */
  entries(): KernelTime[] {
    return [...this.#times.values()].sort((a, b) => b.ms - a.ms);
  }
}
