/**
 * The worker behind SyncOnnxSession: owns one onnxruntime-node session, answers each request on
 * the port, then raises the shared flag that the blocked main thread waits on.
 */
import { workerData } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import type { SessionReply, SessionRequest, SessionWorkerData, WireTensor } from './session-protocol.js';

const { port, flag } = workerData as SessionWorkerData;
const done = new Int32Array(flag);
// Loaded by the first request, so that a failure to load is answered like any other error.
let ort: typeof import('onnxruntime-node') | null = null;
let session: InferenceSession | null = null;

function reply(message: SessionReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
}

async function answer(request: SessionRequest): Promise<void> {
  const runtime = (ort ??= (await import('onnxruntime-node')).default);
  if (request.kind === 'create') {
    session = await runtime.InferenceSession.create(request.model, { graphOptimizationLevel: 'all', ...request.options });
    reply({ ok: true, inputNames: [...session.inputNames], outputNames: [...session.outputNames] });
  } else if (request.kind === 'run') {
    if (!session) throw new Error('no session');
    const feeds = Object.fromEntries(Object.entries(request.feeds).map(([name, t]) => [name, new runtime.Tensor('int64', t.data, t.dims)]));
    const t0 = performance.now();
    const results = await session.run(feeds);
    const runMs = performance.now() - t0;
    const outputs: Record<string, WireTensor<Float32Array>> = {};
    // copied: a view may share its buffer with other outputs, and the buffer is transferred
    for (const [name, t] of Object.entries(results)) outputs[name] = { data: (t.data as Float32Array).slice(), dims: [...t.dims] };
    reply({ ok: true, outputs, runMs }, Object.values(outputs).map((t) => t.data.buffer as ArrayBuffer));
  } else {
    await session?.release();
    session = null;
    reply({ ok: true });
    port.close();
  }
}

port.on('message', (request: SessionRequest) => {
  answer(request).catch((e: unknown) => reply({ ok: false, error: e instanceof Error ? e.message : String(e) }));
});
