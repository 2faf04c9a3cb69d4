/**
 * The worker behind SyncOnnxSession: owns one onnxruntime-node session. Each call of the channel
 * finds its request on the port; the reply goes back on the port before the call is done.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import { SyncChannel } from '../engine/sync-channel.js';
import type { SessionReply, SessionRequest, SessionWorkerData, WireTensor } from './session-protocol.js';

const { port, control } = workerData as SessionWorkerData;
const channel = new SyncChannel(control);
// Loaded by the first request, so that a failure to load is answered like any other error.
let ort: typeof import('onnxruntime-node') | null = null;
let session: InferenceSession | null = null;

async function answer(request: SessionRequest): Promise<void> {
  const runtime = (ort ??= (await import('onnxruntime-node')).default);
  const reply = (message: SessionReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  if (request.kind === 'create') {
    session = await runtime.InferenceSession.create(request.model, { graphOptimizationLevel: 'all', ...request.options });
    reply({ inputNames: [...session.inputNames], outputNames: [...session.outputNames] });
  } else if (request.kind === 'run') {
    if (!session) throw new Error('no session');
    const feeds = Object.fromEntries(Object.entries(request.feeds).map(([name, t]) => [name, new runtime.Tensor('int64', t.data, t.dims)]));
    const t0 = performance.now();
    const results = await session.run(feeds);
    const runMs = performance.now() - t0;
    const outputs: Record<string, WireTensor<Float32Array>> = {};
    // copied: a view may share its buffer with other outputs, and the buffer is transferred
    for (const [name, t] of Object.entries(results)) outputs[name] = { data: (t.data as Float32Array).slice(), dims: [...t.dims] };
    reply({ outputs, runMs }, Object.values(outputs).map((t) => t.data.buffer as ArrayBuffer));
  } else {
    await session?.release();
    session = null;
    reply({});
  }
}

async function main(): Promise<void> {
  let seen = channel.generation();
  channel.announceReady();
  while ((seen = await channel.nextCallAsync(seen)) >= 0) {
    let error: unknown;
    try {
      const request = receiveMessageOnPort(port)?.message as SessionRequest | undefined;
      if (!request) throw new Error('a call came without its request');
      await answer(request);
    } catch (e) {
      error = e;
    }
    channel.done(0, error);
  }
  port.close();
}

process.on('exit', () => channel.exited('the onnxruntime worker'));
void main();
