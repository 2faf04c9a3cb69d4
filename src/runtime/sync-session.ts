/**
 * A synchronous onnxruntime-node session, so that an ONNX-backed model has the engine's
 * synchronous forward(): the session lives in a worker; a call posts its request, blocks in
 * Atomics.wait until the worker raises a shared flag, then takes the reply off the port with
 * receiveMessageOnPort. Node only (the browser build runs onnxruntime-web asynchronously).
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ONNXRUNTIME_NODE_HINT, onnxruntimeNodeInstalled } from '../engine/native/onnxruntime-node.js';
import type { OnnxSessionOptions, SessionReply, SessionRequest, SessionWorkerData, WireTensor } from './session-protocol.js';

export class SyncOnnxSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly #port: MessagePort;
  readonly #done: Int32Array;
  #closed = false;
  #lastRunMs = NaN;

  private constructor(port: MessagePort, done: Int32Array, model: Uint8Array, options: OnnxSessionOptions) {
    this.#port = port;
    this.#done = done;
    const created = this.#call({ kind: 'create', model, options }, [model.buffer as ArrayBuffer], 'creating the session');
    this.inputNames = created.inputNames ?? [];
    this.outputNames = created.outputNames ?? [];
  }

  /** Starts the worker and loads `model` (ONNX bytes, copied for the worker). */
  static create(model: Uint8Array, options: OnnxSessionOptions = {}): SyncOnnxSession {
    if (!onnxruntimeNodeInstalled()) throw new Error(`runtime 'onnx': ${ONNXRUNTIME_NODE_HINT}`);
    const { port1, port2 } = new MessageChannel();
    const flag = new SharedArrayBuffer(4);
    const workerData: SessionWorkerData = { port: port2, flag };
    const worker = new Worker(new URL('./session-worker.js', import.meta.url), { workerData, transferList: [port2] });
    // It waits for requests forever; it must not keep the process alive.
    worker.unref();
    port1.unref();
    // A worker that dies is reported to the waiting call below; this only keeps the event from crashing the process.
    worker.on('error', () => {});
    return new SyncOnnxSession(port1, new Int32Array(flag), model.slice(), options);
  }

  /** Runs the graph on int64 feeds; float32 outputs by name. */
  run(feeds: Record<string, WireTensor<BigInt64Array>>): Record<string, WireTensor<Float32Array>> {
    if (this.#closed) throw new Error('SyncOnnxSession: used after close()');
    const what = `running on ${Object.entries(feeds).map(([k, t]) => `${k} [${t.dims.join(', ')}]`).join(', ')}`;
    const reply = this.#call({ kind: 'run', feeds }, Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer), what);
    this.#lastRunMs = reply.runMs ?? NaN;
    return reply.outputs ?? {};
  }

  /** How long the last run() spent in onnxruntime's session.run, in ms (without the thread hop and copies). */
  get lastRunMs(): number {
    return this.#lastRunMs;
  }

  /** Releases the session; the worker then exits by itself. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#call({ kind: 'close' }, [], 'closing');
    this.#port.close();
  }

  #call(request: SessionRequest, transfer: ArrayBuffer[], what: string): Extract<SessionReply, { ok: true }> {
    Atomics.store(this.#done, 0, 0);
    this.#port.postMessage(request, transfer);
    // The worker loads onnxruntime and builds the session within this wait; a dead worker never raises the flag.
    if (Atomics.wait(this.#done, 0, 0, WAIT_MS) === 'timed-out') throw new Error(`onnxruntime: no answer within ${WAIT_MS / 1000} s ${what}`);
    const reply = receiveMessageOnPort(this.#port)?.message as SessionReply | undefined;
    if (!reply) throw new Error(`onnxruntime: the worker raised its flag without a reply ${what}`);
    if (!reply.ok) throw new Error(`onnxruntime: ${reply.error} (${what})${/Cuda|providers_shared/.test(reply.error) ? CUDA_HINT : ''}`);
    return reply;
  }
}

/** onnxruntime-node's CUDA provider is a separate download that installs skip (ONNXRUNTIME_NODE_INSTALL=skip, or the repository's .npmrc). */
const CUDA_HINT = '. The CUDA provider needs CUDA 12 and onnxruntime-node\'s CUDA files: npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12';

/** Longest a single request may take (a large model at a long length is minutes on a small CPU). */
const WAIT_MS = 30 * 60_000;
