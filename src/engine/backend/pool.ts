/**
 * A pool of kernel threads sharing the arena. The caller is thread 0 and waits until every
 * thread has finished its share, so kernel calls stay synchronous. The wait sleeps in
 * Atomics.wait where the host allows it (Node, Web Workers) and spins on a browser window's main
 * thread, which may not block: in browsers the engine is best run inside a Web Worker.
 */
import { platform } from './platform.js';
import type { ThreadHandle } from './host.js';
import { KernelExports, instantiate } from './kernel-module.js';
import {
  ARGS_OFFSET, callKernel, DONE, FAILED, GEN, KERNEL, kernelNames, MAX_ARGS, NARGS, NT, READY, SPIN, STOP, WorkerData,
} from './pool-protocol.js';
import { MAX_THREADS, POOL_CONTROL_BYTES, sharesView } from './pool-shares.js';

const START_TIMEOUT_MS = 20000;

/** Atomics.waitAsync (ES2024; Chrome 87, Node 16) is not in this project's ES2022 lib. */
type WaitAsync = (a: Int32Array, index: number, value: number, timeoutMs: number) =>
  { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

export class Pool {
  readonly threads: number;
  readonly exports: KernelExports;
  #ids: Map<string, number>;
  #ctrl: Int32Array;
  #args: Float64Array;
  #shares: Int32Array;
  #canBlock = platform.canBlock;
  #workers: ThreadHandle[] = [];
  #failure: Error | undefined;

  /** Starts a pool and blocks until its threads are ready (Node; or one thread anywhere). */
  static create(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Pool {
    if (threads > 1 && !platform.syncStart) {
      throw new Error('engine: kernel threads start asynchronously in browsers; use `await initEngine({ threads })`');
    }
    const pool = new Pool(module, memory, threads);
    pool.#awaitReadySync();
    return pool;
  }

  /** Starts a pool without blocking the caller's event loop (browser workers start only then). */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<Pool> {
    const pool = new Pool(module, memory, threads);
    await pool.#awaitReadyAsync();
    return pool;
  }

  private constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number) {
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
      throw new Error(`pool: threads must be an integer in [1, ${MAX_THREADS}], got ${threads}`);
    }
    this.threads = threads;
    this.exports = instantiate(module, memory);
    this.#ids = new Map(kernelNames(this.exports).map((n, i) => [n, i]));
    const control = new SharedArrayBuffer(POOL_CONTROL_BYTES);
    this.#ctrl = new Int32Array(control);
    this.#args = new Float64Array(control, ARGS_OFFSET, MAX_ARGS);
    this.#shares = sharesView(control);
    for (let tid = 1; tid < threads; tid++) {
      const data: WorkerData = { module, memory, control, tid };
      this.#workers.push(platform.startPoolThread(data, (e) => (this.#failure = e)));
    }
  }

  /**
   * Runs `kernel(tid, nt, ...args)` on nt threads, nt chosen from `work` (≈ scalar operations):
   * small calls stay on the caller's thread, where waking workers would cost more than it saves.
   */
  run(kernel: string, args: readonly number[], work: number): void {
    const fn = this.exports[kernel];
    if (!fn) throw new Error(`pool: no kernel named '${kernel}'`);
    const nt = work < 65536 ? 1 : this.threads;
    if (nt === 1) {
      fn(0, 1, ...args);
      this.#shares[0]++; // only thread 0 writes slot 0
      return;
    }
    const ctrl = this.#ctrl;
    this.#args.set(args);
    ctrl[KERNEL] = this.#ids.get(kernel)!;
    ctrl[NARGS] = args.length;
    ctrl[NT] = nt;
    Atomics.store(ctrl, DONE, 0);
    Atomics.add(ctrl, GEN, 1);
    Atomics.notify(ctrl, GEN);
    callKernel(fn, 0, nt, this.#args, args.length);
    this.#shares[0]++;
    const workers = this.threads - 1;
    let spins = 0;
    for (let done = Atomics.load(ctrl, DONE); done !== workers; done = Atomics.load(ctrl, DONE)) {
      // A window's main thread cannot sleep, and no worker error event can arrive while it
      // spins; kernel exceptions still come back through FAILED.
      if (++spins > SPIN && this.#canBlock) {
        Atomics.wait(ctrl, DONE, done, 1000);
        spins = 0;
        if (this.#failure) throw this.#failure;
      }
    }
    const failed = Atomics.exchange(ctrl, FAILED, 0);
    if (failed) throw new Error(`pool: kernel '${kernel}' failed on thread ${failed - 1}`);
  }

  /** Kernel shares each thread has run since the pool started (index = thread id; 0 is the caller). */
  shares(): number[] {
    return Array.from({ length: this.threads }, (_, tid) => Atomics.load(this.#shares, tid));
  }

  close(): void {
    Atomics.store(this.#ctrl, STOP, 1);
    Atomics.add(this.#ctrl, GEN, 1);
    Atomics.notify(this.#ctrl, GEN);
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }

  /** Ready threads, or throws on a failed thread or after the start-up deadline. */
  #checkReady(deadline: number): number {
    const ready = Atomics.load(this.#ctrl, READY);
    const want = this.threads - 1;
    if (ready >= want) return ready;
    if (this.#failure) {
      this.close();
      throw this.#failure;
    }
    if (Date.now() > deadline) {
      this.close();
      throw new Error(`pool: only ${ready} of ${want} worker threads started within ${START_TIMEOUT_MS} ms`);
    }
    return ready;
  }

  #awaitReadySync(): void {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let ready = this.#checkReady(deadline); ready < this.threads - 1; ready = this.#checkReady(deadline)) {
      Atomics.wait(this.#ctrl, READY, ready, 50);
    }
  }

  async #awaitReadyAsync(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let ready = this.#checkReady(deadline); ready < this.threads - 1; ready = this.#checkReady(deadline)) {
      await changeOrTimeout(this.#ctrl, READY, ready, 50);
    }
  }
}

/** Resolves when ctrl[index] may have left `value`, or after `ms`, without blocking. */
async function changeOrTimeout(ctrl: Int32Array, index: number, value: number, ms: number): Promise<void> {
  const w = waitAsync?.(ctrl, index, value, ms);
  if (w && !w.async) return; // already changed
  // The timer also keeps Node's event loop alive, which a pending Atomics.waitAsync does not.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const slept = new Promise<void>((resolve) => (timer = setTimeout(resolve, w ? ms : 5)));
  await (w ? Promise.race([w.value, slept]) : slept);
  clearTimeout(timer);
}
