import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { SyncChannel } from './sync-channel.js';

const SERVER = new URL('../../test/channel-server.js', import.meta.url);

function start(options: { failToStart?: boolean; asyncServer?: boolean } = {}) {
  const channel = new SyncChannel();
  const result = new SharedArrayBuffer(8);
  const worker = new Worker(SERVER, { workerData: { control: channel.buffer, result, failToStart: false, asyncServer: false, ...options } });
  worker.on('error', () => {});
  return { channel, sum: new Float64Array(result), worker };
}

for (const asyncServer of [false, true]) {
  test(`a call reaches a ${asyncServer ? 'waitAsync' : 'blocking'} server with its op and arguments; a thrown error comes back by name, and the server keeps serving`, async () => {
    const { channel, sum, worker } = start({ asyncServer });
    channel.awaitReady(1, { timeoutMs: 10_000 });
    for (let i = 1; i <= 50; i++) {
      channel.call(0, [i, 0.5, 2 ** 40]);
      assert.equal(sum[0], i + 0.5 + 2 ** 40);
    }
    assert.throws(() => channel.call(1, [7]), { message: 'RangeError: bad argument 7' });
    channel.call(0, [1, 2]);
    assert.equal(sum[0], 3);
    channel.stop();
    await new Promise((resolve) => worker.once('exit', resolve));
  });
}

test('a server that dies in a call fails that call and every later one', async () => {
  const { channel, worker } = start();
  channel.awaitReady(1, { timeoutMs: 10_000 });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  assert.throws(() => channel.call(2), { message: 'the test server exited' });
  await exited;
  assert.throws(() => channel.call(0, [1]), { message: 'the test server exited' });
});

test('a server that cannot start fails awaitReady with its reason', async () => {
  const { channel, worker } = start({ failToStart: true });
  assert.throws(() => channel.awaitReady(1, { timeoutMs: 10_000 }), { message: 'no runtime here' });
  await new Promise((resolve) => worker.once('exit', resolve));
});

test('a wait gives up after its timeout, naming what it waited for', async () => {
  const channel = new SyncChannel(); // no server
  assert.throws(() => channel.awaitReady(1, { timeoutMs: 50, what: 'start of nothing' }), { message: 'no start of nothing within 0.05 s' });
  await assert.rejects(channel.awaitReadyAsync(1, 50), { message: 'only 0 of 1 worker threads started within 50 ms' });
});

test('arguments beyond the block and a block too small are refused', () => {
  assert.throws(() => new SyncChannel().post(0, new Array(33).fill(0)), /at most 32 arguments/);
  assert.throws(() => new SyncChannel(new SharedArrayBuffer(16)), /a block needs \d+ bytes, got 16/);
});
