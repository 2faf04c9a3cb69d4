/**
 * Main-thread client of the native GEMM path: synchronous matrix products on
 * float32 data in a shared WebAssembly.Memory, computed by onnxruntime-node's
 * CPU provider (MLAS) in a dedicated worker (native-worker.ts).
 *
 * A call goes through the engine's SyncChannel: it blocks until the worker
 * reports done or error.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SyncChannel } from '../sync-channel.js';
import { ARG, ARG_COUNT, ARG_Q8, ARG_Q8_COUNT, KIND_BATCHED, KIND_GEMM, KIND_Q8, type NativeWorkerData } from './native-protocol.js';

const STARTUP_TIMEOUT_MS = 60_000;

/** Every request the worker understands, already split into one onnxruntime call. */
export interface NativeRequest {
  kind: typeof KIND_GEMM | typeof KIND_BATCHED;
  transA: boolean;
  transB: boolean;
  batch: number;
  m: number;
  k: number;
  n: number;
  a: number;
  b: number;
  c: number;
}

/**
 * Whether NativeGemm.matmul handles this product. Every combination is
 * handled: 2-D and broadcast-B-without-transA products become one Gemm,
 * batched products one MatMul (transposes via fused Transpose nodes), and
 * broadcast B with transA a loop of per-batch Gemms. Kept so callers can ask.
 */
export function nativeSupports(batch: number, transA: boolean, transB: boolean, bBroadcast: boolean): boolean {
  void transA; void transB; void bBroadcast;
  return Number.isInteger(batch) && batch >= 1;
}

export class NativeGemm {
  private closed = false;

  private readonly args = new Float64Array(ARG_COUNT);

  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly channel: SyncChannel,
  ) {}

  /**
   * Starts the worker and blocks until it has loaded onnxruntime-node and
   * built its first session. Throws if onnxruntime-node cannot load.
   */
  static create(memory: WebAssembly.Memory, threads: number = availableParallelism()): NativeGemm {
    if (!(memory.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError('NativeGemm.create: memory must be a shared WebAssembly.Memory');
    }
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`NativeGemm.create: threads must be a positive integer, got ${threads}`);
    }
    const channel = new SyncChannel();
    const workerData: NativeWorkerData = { memory, control: channel.buffer, threads };
    const worker = new Worker(new URL('./native-worker.js', import.meta.url), { workerData });
    // The worker waits for calls forever; it must not keep the process alive.
    worker.unref();
    // Failures are reported through the channel; this only keeps an
    // unhandled 'error' event from crashing the process later.
    worker.on('error', () => {});
    try {
      channel.awaitReady(1, { timeoutMs: STARTUP_TIMEOUT_MS, what: 'answer' });
    } catch (e) {
      void worker.terminate();
      throw new Error(`NativeGemm: native worker failed to start: ${(e as Error).message}`);
    }
    return new NativeGemm(memory, channel);
  }

  /**
   * C[s] = op(A[s])·op(B[s]) for s < batch, float32. A is contiguous
   * [batch,m,k] ([batch,k,m] if transA), B [batch,k,n] ([batch,n,k] if transB)
   * or a single such matrix if bBroadcast, C contiguous [batch,m,n]. Pointers
   * are byte offsets into the memory. Synchronous.
   */
  matmul(a: number, b: number, c: number, batch: number, m: number, k: number, n: number,
    transA: boolean, transB: boolean, bBroadcast: boolean): void {
    this.validate(a, b, c, batch, m, k, n, bBroadcast);
    if (batch * m * n === 0) return;
    if (k === 0) { // empty sum; onnxruntime is not needed for zeros
      new Float32Array(this.memory.buffer, c, batch * m * n).fill(0);
      return;
    }
    const base = { transA, transB, m, k, n, b, c };
    if (batch === 1 || (bBroadcast && !transA)) {
      // Broadcast B without transA: the batch is just more rows of one Gemm.
      this.post({ ...base, kind: KIND_GEMM, batch: 1, m: m * batch, a });
    } else if (!bBroadcast) {
      this.post({ ...base, kind: KIND_BATCHED, batch, a });
    } else {
      // Broadcast B with transA: rows of different A[s]ᵀ are not contiguous.
      for (let s = 0; s < batch; s++) {
        this.post({ ...base, kind: KIND_GEMM, batch: 1, a: a + s * m * k * 4, c: c + s * m * n * 4 });
      }
    }
  }

  /**
   * y [rows, n] = x [rows, k]·Wᵀ + bias with W as int8 codes [n, k] (rows of exactly k bytes) and
   * float32 scales [n]; bias 0 for none. Pointers are byte offsets into the memory. Synchronous.
   */
  linearQ8(x: number, codes: number, scale: number, bias: number, y: number, rows: number, k: number, n: number): void {
    if (this.closed) throw new Error('NativeGemm: used after close()');
    const args = new Float64Array(ARG_Q8_COUNT);
    args[ARG_Q8.rows] = rows;
    args[ARG_Q8.k] = k;
    args[ARG_Q8.n] = n;
    args[ARG_Q8.x] = x;
    args[ARG_Q8.codes] = codes;
    args[ARG_Q8.scale] = scale;
    args[ARG_Q8.bias] = bias;
    args[ARG_Q8.y] = y;
    try {
      this.channel.call(KIND_Q8, args);
    } catch (e) {
      throw new Error(`NativeGemm: ${(e as Error).message} (request 8-bit rows=${rows} k=${k} n=${n})`);
    }
  }

  /**
   * Asks the worker to quit: it releases its onnxruntime sessions and exits by itself (it is
   * unref'd, so it never holds the process). Terminating it instead could land in the middle of
   * that release, which aborts the whole process with a native Napi::Error. Safe to call twice.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.stop();
  }

  /** One blocking round trip to the worker (the test calls it directly to reach the worker's error path). */
  private post(r: NativeRequest): void {
    if (this.closed) throw new Error('NativeGemm: used after close()');
    const { args } = this;
    args[ARG.transA] = r.transA ? 1 : 0;
    args[ARG.transB] = r.transB ? 1 : 0;
    args[ARG.batch] = r.batch;
    args[ARG.m] = r.m;
    args[ARG.k] = r.k;
    args[ARG.n] = r.n;
    args[ARG.a] = r.a;
    args[ARG.b] = r.b;
    args[ARG.c] = r.c;
    try {
      this.channel.call(r.kind, args);
    } catch (e) {
      throw new Error(`NativeGemm: ${(e as Error).message} (request ${describe(r)})`);
    }
  }

  private validate(a: number, b: number, c: number, batch: number, m: number, k: number, n: number,
    bBroadcast: boolean): void {
    const shape = `batch=${batch} m=${m} k=${k} n=${n}`;
    for (const [name, v] of [['batch', batch], ['m', m], ['k', k], ['n', n]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new RangeError(`NativeGemm.matmul: ${name} must be a non-negative integer (${shape})`);
      }
    }
    const bytes = this.memory.buffer.byteLength;
    const check = (name: string, ptr: number, dims: readonly number[]): void => {
      const len = dims.reduce((x, y) => x * y, 1) * 4;
      if (!Number.isSafeInteger(ptr) || ptr < 0 || ptr % 4 !== 0 || ptr + len > bytes) {
        throw new RangeError(
          `NativeGemm.matmul: ${name} [${dims.join(',')}] at byte ${ptr} does not fit a 4-aligned range of the ${bytes}-byte memory (${shape})`);
      }
    };
    check('A', a, [batch, m, k]);
    check('B', b, bBroadcast ? [k, n] : [batch, k, n]);
    check('C', c, [batch, m, n]);
  }
}

function describe(r: NativeRequest): string {
  const op = r.kind === KIND_GEMM ? 'Gemm' : 'batched MatMul';
  return `${op} batch=${r.batch} m=${r.m} k=${r.k} n=${r.n} transA=${r.transA} transB=${r.transB}`;
}
