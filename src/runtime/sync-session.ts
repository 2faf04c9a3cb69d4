/**
 * A synchronous onnxruntime-node session, so that an ONNX-backed model has the engine's
 * synchronous forward(): the session lives in a worker; a call posts its request on a port,
 * blocks on the engine's SyncChannel until the worker is done, then takes the reply off the port
 * with receiveMessageOnPort. Node only (the browser build runs onnxruntime-web asynchronously).
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { SyncChannel } from '../engine/sync-channel.js';
import { ONNXRUNTIME_NODE_HINT, onnxruntimeNodeInstalled } from '../engine/native/onnxruntime-node.js';
import type { OnnxSessionOptions, SessionReply, SessionRequest, SessionWorkerData, WireTensor } from './session-protocol.js';

export class SyncOnnxSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly #port: MessagePort;
  readonly #channel: SyncChannel;
  #closed = false;
  #lastRunMs = NaN;

  private constructor(port: MessagePort, channel: SyncChannel, model: Uint8Array, options: OnnxSessionOptions) {
    this.#port = port;
    this.#channel = channel;
    const created = this.#call({ kind: 'create', model, options }, [model.buffer as ArrayBuffer], 'creating the session');
    this.inputNames = created.inputNames ?? [];
    this.outputNames = created.outputNames ?? [];
  }

  /** Starts the worker and loads `model` (ONNX bytes, copied for the worker). */
  static create(model: Uint8Array, options: OnnxSessionOptions = {}): SyncOnnxSession {
    if (!onnxruntimeNodeInstalled()) throw new Error(`runtime 'onnx': ${ONNXRUNTIME_NODE_HINT}`);
    const { port1, port2 } = new MessageChannel();
    const channel = new SyncChannel();
    const workerData: SessionWorkerData = { port: port2, control: channel.buffer };
    const worker = new Worker(new URL('./session-worker.js', import.meta.url), { workerData, transferList: [port2] });
    // It waits for requests forever; it must not keep the process alive.
    worker.unref();
    port1.unref();
    // A worker that dies is reported to the waiting call below; this only keeps the event from crashing the process.
    worker.on('error', () => {});
    channel.awaitReady(1, { timeoutMs: WAIT_MS, what: 'start of the onnxruntime worker' });
    return new SyncOnnxSession(port1, channel, model.slice(), options);
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
    this.#channel.stop();
    this.#port.close();
  }

  #call(request: SessionRequest, transfer: ArrayBuffer[], what: string): SessionReply {
    this.#port.postMessage(request, transfer);
    try {
      // The worker loads onnxruntime and builds the session within this wait.
      this.#channel.call(0, [], { timeoutMs: WAIT_MS, what: `answer ${what}` });
    } catch (e) {
      const error = (e as Error).message;
      throw new Error(`onnxruntime: ${error} (${what})${/Cuda|providers_shared/.test(error) ? CUDA_HINT : ''}`);
    }
    const reply = receiveMessageOnPort(this.#port)?.message as SessionReply | undefined;
    if (!reply) throw new Error(`onnxruntime: the worker was done without a reply ${what}`);
    return reply;
  }
}

/** onnxruntime-node's CUDA provider is a separate download that installs skip (ONNXRUNTIME_NODE_INSTALL=skip, or the repository's .npmrc). */
const CUDA_HINT = '. The CUDA provider needs CUDA 12 and onnxruntime-node\'s CUDA files: npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12';

/** Longest a single request may take (a large model at a long length is minutes on a small CPU). */
const WAIT_MS = 30 * 60_000;
