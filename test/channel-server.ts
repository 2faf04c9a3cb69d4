/** A SyncChannel server for sync-channel.test.ts: op 0 adds its arguments, 1 throws, 2 kills the thread. */
import { workerData } from 'node:worker_threads';
import { SyncChannel } from '../src/engine/sync-channel.js';

const { control, result, failToStart, asyncServer } = workerData as {
  control: SharedArrayBuffer; result: SharedArrayBuffer; failToStart: boolean; asyncServer: boolean;
};
const channel = new SyncChannel(control);
const sum = new Float64Array(result);
process.on('exit', () => channel.exited('the test server'));

function answer(): void {
  if (channel.op === 1) throw new RangeError(`bad argument ${channel.args[0]}`);
  if (channel.op === 2) process.exit(3);
  sum[0] = channel.args.reduce((a, b) => a + b, 0);
}

async function main(): Promise<void> {
  if (failToStart) return channel.failStart(0, new Error('no runtime here'));
  let seen = channel.generation();
  channel.announceReady();
  for (;;) {
    seen = asyncServer ? await channel.nextCallAsync(seen) : channel.nextCall(seen);
    if (seen < 0) return;
    let error: unknown;
    try {
      answer();
    } catch (e) {
      error = e;
    }
    channel.done(0, error);
  }
}
void main();
