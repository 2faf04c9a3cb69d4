/**
 * A kernel thread: instantiates the kernels on the shared memory and serves calls forever.
 * Host-neutral; pool-worker.node.ts and pool-worker.browser.ts deliver its data.
 */
import { SyncChannel } from '../sync-channel.js';
import { instantiate } from './kernel-module.js';
import { callKernel, kernelNames, WorkerData } from './pool-protocol.js';
import { sharesView } from './pool-shares.js';

export function serve({ module, memory, control, tid }: WorkerData): void {
  const channel = new SyncChannel(control);
  let fns: ((...a: number[]) => unknown)[];
  try {
    const exports = instantiate(module, memory);
    fns = kernelNames(exports).map((n) => exports[n]);
  } catch (e) {
    channel.failStart(tid, e);
    return;
  }
  const shares = sharesView(control);
  let seen = channel.generation(); // read before announcing readiness: a call may follow at once
  channel.announceReady();
  while ((seen = channel.nextCall(seen)) >= 0) {
    const nt = channel.threads;
    let error: unknown;
    if (tid < nt) {
      try {
        callKernel(fns[channel.op], tid, nt, channel.argBlock, channel.argCount);
        Atomics.add(shares, tid, 1);
      } catch (e) {
        error = e;
      }
    }
    channel.done(tid, error);
  }
}
