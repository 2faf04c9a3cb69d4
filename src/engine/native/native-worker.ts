/**
 * The native worker: owns the onnxruntime-node sessions and runs the products
 * that native-gemm.ts (main thread) posts through the shared control block.
 *
 * Why a worker: InferenceSession.run is async, while engine ops are sync. The
 * main thread blocks in Atomics.wait; this thread waits with Atomics.waitAsync
 * so its own event loop keeps turning and run()'s promise can settle.
 *
 * Why copies: onnxruntime-node rejects typed arrays backed by a
 * SharedArrayBuffer, so A and B are copied out of the shared arena into plain
 * buffers (kept and grown across calls), and the result, which onnxruntime
 * writes into a plain preallocated output buffer, is copied back into the arena.
 */
import { workerData } from 'node:worker_threads';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { buildModel, INPUT_A, INPUT_B, OUTPUT, type ModelKind } from './gemm-model.js';
import {
  controlViews, ERROR_BYTES, ERROR_LEN, KIND_GEMM, P_A, P_B, P_BATCH, P_C, P_K, P_KIND, P_M, P_N,
  P_TRANS_A, P_TRANS_B, S_ERROR, S_QUIT, S_READY, S_REQUEST, STATE, type NativeWorkerData,
} from './native-protocol.js';

type Ort = typeof import('onnxruntime-node');

// Atomics.waitAsync is in Node 20 but only in TypeScript's ES2024 lib; the project targets ES2022.
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): WaitAsyncResult }).waitAsync;

const data = workerData as NativeWorkerData;
const { i32, f64, err } = controlViews(data.control);
const utf8 = new TextEncoder();

function signal(state: number): void {
  Atomics.store(i32, STATE, state);
  Atomics.notify(i32, STATE);
}

function fail(e: unknown): void {
  const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
  const { written } = utf8.encodeInto(msg.slice(0, ERROR_BYTES / 3), err); // /3: worst-case UTF-8 growth
  Atomics.store(i32, ERROR_LEN, written);
  signal(S_ERROR);
}

/** A plain (non-shared) float buffer that only ever grows, so steady-state calls allocate nothing. */
class Scratch {
  private buf = new Float32Array(0);
  view(length: number): Float32Array {
    if (this.buf.length < length) this.buf = new Float32Array(Math.ceil(length * 1.25));
    return this.buf.subarray(0, length);
  }
}

const scratchA = new Scratch();
const scratchB = new Scratch();
const scratchC = new Scratch();
const sessions = new Map<string, InferenceSession>();

async function session(ort: Ort, kind: ModelKind, transA: boolean, transB: boolean): Promise<InferenceSession> {
  const key = `${kind}:${transA ? 1 : 0}${transB ? 1 : 0}`;
  let s = sessions.get(key);
  if (!s) {
    s = await ort.InferenceSession.create(buildModel(kind, transA, transB), {
      intraOpNumThreads: data.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      // Pool threads otherwise keep spinning after each run, stealing a core
      // from the main thread's own (WebAssembly) work between products.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    sessions.set(key, s);
  }
  return s;
}

async function runRequest(ort: Ort): Promise<void> {
  const kind: ModelKind = f64[P_KIND] === KIND_GEMM ? 'gemm' : 'batched';
  const transA = f64[P_TRANS_A] !== 0;
  const transB = f64[P_TRANS_B] !== 0;
  const batch = f64[P_BATCH], m = f64[P_M], k = f64[P_K], n = f64[P_N];
  // Re-read memory.buffer on every call: memory.grow on another thread leaves
  // an older SharedArrayBuffer object here that is too short.
  const heap = data.memory.buffer;
  const aLen = batch * m * k, bLen = batch * k * n, cLen = batch * m * n;

  const a = scratchA.view(aLen);
  a.set(new Float32Array(heap, f64[P_A], aLen));
  const b = scratchB.view(bLen);
  b.set(new Float32Array(heap, f64[P_B], bLen));
  const c = scratchC.view(cLen);

  const aDims = transA ? [k, m] : [m, k];
  const bDims = transB ? [n, k] : [k, n];
  const lead = kind === 'gemm' ? [] : [batch];
  const feeds: Record<string, Tensor> = {
    [INPUT_A]: new ort.Tensor('float32', a, [...lead, ...aDims]),
    [INPUT_B]: new ort.Tensor('float32', b, [...lead, ...bDims]),
  };
  // Preallocated output: onnxruntime writes straight into our scratch buffer.
  const fetches = { [OUTPUT]: new ort.Tensor('float32', c, [...lead, m, n]) };
  const s = await session(ort, kind, transA, transB);
  await s.run(feeds, fetches);
  new Float32Array(heap, f64[P_C], cLen).set(c);
}

async function main(): Promise<void> {
  let ort: Ort;
  try {
    ort = (await import('onnxruntime-node')).default;
    // Touch the native binding now so a missing/broken binary fails at startup.
    await session(ort, 'gemm', false, false);
  } catch (e) {
    fail(new Error(`onnxruntime-node could not be loaded: ${e instanceof Error ? e.message : String(e)}`));
    return;
  }
  signal(S_READY);
  for (;;) {
    let state = Atomics.load(i32, STATE);
    while (state !== S_REQUEST && state !== S_QUIT) {
      const w = waitAsync(i32, STATE, state);
      if (w.async) await w.value;
      state = Atomics.load(i32, STATE);
    }
    if (state === S_QUIT) break;
    try {
      await runRequest(ort);
      signal(S_READY);
    } catch (e) {
      fail(e);
    }
  }
  for (const s of sessions.values()) await s.release();
}

// A main thread blocked on a request must not wait forever if this thread dies.
process.on('exit', () => {
  if (Atomics.load(i32, STATE) === S_REQUEST) fail(new Error('native worker exited during a request'));
});

void main().catch(fail);
