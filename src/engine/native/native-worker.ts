/**
 * The native worker: owns the onnxruntime-node sessions and runs the products
 * that native-gemm.ts (main thread) posts through the shared control block.
 *
 * Why a worker: InferenceSession.run is async, while engine ops are sync. The
 * main thread blocks; this thread waits with the channel's nextCallAsync so its
 * own event loop keeps turning and run()'s promise can settle.
 *
 * Why copies: onnxruntime-node rejects typed arrays backed by a
 * SharedArrayBuffer, so A and B are copied out of the shared arena into plain
 * buffers (kept and grown across calls), and the result, which onnxruntime
 * writes into a plain preallocated output buffer, is copied back into the arena.
 */
import { workerData } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import { buildModel, INPUT_A, INPUT_B, INPUT_BIAS, INPUT_SCALE, OUTPUT, type ModelKind } from './gemm-model.js';
import { SyncChannel } from '../sync-channel.js';
import { ARG, ARG_Q8, KIND_GEMM, KIND_Q8, type NativeWorkerData } from './native-protocol.js';

type Ort = typeof import('onnxruntime-node');

const data = workerData as NativeWorkerData;
const channel = new SyncChannel(data.control);

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

/**
 * Rows of C per onnxruntime call for a 2-D product. Measured on the 2-core
 * dev VM: with wide outputs (N >= 1536) one big call ran at ~80-100 GFLOP/s,
 * while the same product cut into ~3 MiB slabs of C (256 rows at N = 3072)
 * ran at 150-300, interleaved A/B. Narrow outputs gain nothing from small
 * slabs, but one call over very many rows slows down too (16384x768x768:
 * 82 GFLOP/s whole, 110-240 in 12 MiB slabs of 4096 rows), so they are cut
 * into 12 MiB slabs. Cutting is free here since A is copied out per slab anyway.
 */
function slabRows(m: number, n: number): number {
  const bytes = n < 1536 ? 12_582_912 : 3_145_728;
  return Math.min(m, Math.max(64, Math.floor(bytes / 4 / n / 16) * 16));
}

async function runGemm(ort: Ort, heap: ArrayBufferLike, args: Float64Array, transA: boolean, transB: boolean,
  m: number, k: number, n: number): Promise<void> {
  const aAll = new Float32Array(heap, args[ARG.a], m * k);
  const b = scratchB.view(k * n);
  b.set(new Float32Array(heap, args[ARG.b], k * n));
  const bTensor = new ort.Tensor('float32', b, transB ? [n, k] : [k, n]);
  const s = await session(ort, 'gemm', transA, transB);
  const rows = slabRows(m, n);
  for (let r = 0; r < m; r += rows) {
    const R = Math.min(rows, m - r);
    const a = scratchA.view(R * k);
    if (!transA) {
      a.set(aAll.subarray(r * k, (r + R) * k));
    } else {
      // A is [k, m]: the slab is columns r..r+R of every row; gather it as [k, R].
      for (let p = 0; p < k; p++) a.set(aAll.subarray(p * m + r, p * m + r + R), p * R);
    }
    const c = scratchC.view(R * n);
    // Preallocated output: onnxruntime writes straight into our scratch buffer.
    await s.run(
      { [INPUT_A]: new ort.Tensor('float32', a, transA ? [k, R] : [R, k]), [INPUT_B]: bTensor },
      { [OUTPUT]: new ort.Tensor('float32', c, [R, n]) });
    new Float32Array(heap, args[ARG.c] + r * n * 4, R * n).set(c);
  }
}

async function runBatched(ort: Ort, heap: ArrayBufferLike, args: Float64Array, transA: boolean, transB: boolean,
  batch: number, m: number, k: number, n: number): Promise<void> {
  const a = scratchA.view(batch * m * k);
  a.set(new Float32Array(heap, args[ARG.a], batch * m * k));
  const b = scratchB.view(batch * k * n);
  b.set(new Float32Array(heap, args[ARG.b], batch * k * n));
  const c = scratchC.view(batch * m * n);
  const s = await session(ort, 'batched', transA, transB);
  await s.run({
    [INPUT_A]: new ort.Tensor('float32', a, transA ? [batch, k, m] : [batch, m, k]),
    [INPUT_B]: new ort.Tensor('float32', b, transB ? [batch, n, k] : [batch, k, n]),
  }, { [OUTPUT]: new ort.Tensor('float32', c, [batch, m, n]) });
  new Float32Array(heap, args[ARG.c], batch * m * n).set(c);
}

/** y [rows, n] = x·Wᵀ (+ bias) with W as int8 codes [n, k]: the inputs copied out of the arena, as runGemm's. */
async function runQ8(ort: Ort, heap: ArrayBufferLike, args: Float64Array): Promise<void> {
  const rows = args[ARG_Q8.rows], k = args[ARG_Q8.k], n = args[ARG_Q8.n];
  const withBias = args[ARG_Q8.bias] !== 0;
  const x = scratchA.view(rows * k);
  x.set(new Float32Array(heap, args[ARG_Q8.x], rows * k));
  const feeds: Record<string, import('onnxruntime-node').Tensor> = {
    [INPUT_A]: new ort.Tensor('float32', x, [rows, k]),
    [INPUT_B]: new ort.Tensor('int8', new Int8Array(heap, args[ARG_Q8.codes], n * k).slice(), [n, k]),
    [INPUT_SCALE]: new ort.Tensor('float32', new Float32Array(heap, args[ARG_Q8.scale], n).slice(), [n]),
  };
  if (withBias) feeds[INPUT_BIAS] = new ort.Tensor('float32', new Float32Array(heap, args[ARG_Q8.bias], n).slice(), [n]);
  const y = scratchC.view(rows * n);
  const s = await session(ort, withBias ? 'q8-bias' : 'q8', false, false);
  await s.run(feeds, { [OUTPUT]: new ort.Tensor('float32', y, [rows, n]) });
  new Float32Array(heap, args[ARG_Q8.y], rows * n).set(y);
}

function runRequest(ort: Ort): Promise<void> {
  const args = channel.args.slice(); // the call's own copy: onnxruntime awaits between uses
  const transA = args[ARG.transA] !== 0;
  const transB = args[ARG.transB] !== 0;
  const batch = args[ARG.batch], m = args[ARG.m], k = args[ARG.k], n = args[ARG.n];
  // Re-read memory.buffer on every call: memory.grow on another thread leaves
  // an older SharedArrayBuffer object here that is too short.
  const heap = data.memory.buffer;
  if (channel.op === KIND_Q8) return runQ8(ort, heap, args);
  return channel.op === KIND_GEMM
    ? runGemm(ort, heap, args, transA, transB, m, k, n)
    : runBatched(ort, heap, args, transA, transB, batch, m, k, n);
}

async function main(): Promise<void> {
  let ort: Ort;
  let seen = channel.generation();
  try {
    ort = (await import('onnxruntime-node')).default;
    // Touch the native binding now so a missing/broken binary fails at startup.
    await session(ort, 'gemm', false, false);
  } catch (e) {
    channel.failStart(0, new Error(`onnxruntime-node could not be loaded: ${e instanceof Error ? e.message : String(e)}`));
    return;
  }
  channel.announceReady();
  while ((seen = await channel.nextCallAsync(seen)) >= 0) {
    let error: unknown;
    try {
      await runRequest(ort);
    } catch (e) {
      error = e;
    }
    channel.done(0, error);
  }
  for (const s of sessions.values()) await s.release();
}

// Whatever the reason for exiting, say so, so that a main thread blocked on (or
// about to post) a call fails instead of waiting forever.
process.on('exit', () => channel.exited('native worker'));

void main().catch((e: unknown) => channel.failStart(0, e));
