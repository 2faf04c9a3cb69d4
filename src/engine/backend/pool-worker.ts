/**
 * A kernel thread: instantiates the kernels on the shared memory and serves calls forever.
 * Host-neutral; pool-worker.node.ts and pool-worker.browser.ts deliver its data.
 */
import { instantiate } from './kernel-module.js';
import {
  ARGS_OFFSET, callKernel, DONE, FAILED, GEN, KERNEL, kernelNames, NARGS, NT, READY, SPIN, STOP, WorkerData,
} from './pool-protocol.js';
import { sharesView } from './pool-shares.js';

export function serve({ module, memory, control, tid }: WorkerData): void {
  const exports = instantiate(module, memory);
  const fns = kernelNames(exports).map((n) => exports[n]);
  const ctrl = new Int32Array(control);
  const args = new Float64Array(control, ARGS_OFFSET);
  const shares = sharesView(control);
  // Read the generation before announcing readiness: the caller may start a call at once.
  let seen = Atomics.load(ctrl, GEN);
  Atomics.add(ctrl, READY, 1);
  Atomics.notify(ctrl, READY);
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctrl, GEN) === seen) {
      if (++spins > SPIN) {
        Atomics.wait(ctrl, GEN, seen); // allowed: kernel threads are workers in every host
        spins = 0;
      }
    }
    seen = Atomics.load(ctrl, GEN);
    if (Atomics.load(ctrl, STOP)) return;
    const nt = ctrl[NT];
    if (tid < nt) {
      try {
        callKernel(fns[ctrl[KERNEL]], tid, nt, args, ctrl[NARGS]);
        Atomics.add(shares, tid, 1);
      } catch {
        Atomics.compareExchange(ctrl, FAILED, 0, tid + 1);
      }
    }
    Atomics.add(ctrl, DONE, 1);
    Atomics.notify(ctrl, DONE);
  }
}
