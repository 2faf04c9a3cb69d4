/**
 * A pool of kernel threads sharing the arena. The caller is thread 0 and waits until every
 * thread has finished its share, so kernel calls stay synchronous. The wait sleeps in
 * Atomics.wait where the host allows it (Node, Web Workers) and spins on a browser window's main
 * thread, which may not block: in browsers the engine is best run inside a Web Worker.
 */
import { platform } from './platform.js';
import type { ThreadHandle } from './host.js';
import { KernelExports, instantiate } from './kernel-module.js';
import { callKernel, kernelNames, WorkerData } from './pool-protocol.js';
import { MAX_THREADS, POOL_CONTROL_BYTES, sharesView } from './pool-shares.js';
import { SyncChannel } from '../sync-channel.js';

const START_TIMEOUT_MS = 20000;

export class Pool {
  readonly threads: number;
  readonly exports: KernelExports;
  #ids: Map<string, number>;
  #channel: SyncChannel;
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
    try {
      pool.#channel.awaitReady(threads - 1, { timeoutMs: START_TIMEOUT_MS, what: 'start of the kernel threads' });
    } catch (e) {
      throw pool.#startFailed(e);
    }
    return pool;
  }

  /** Starts a pool without blocking the caller's event loop (browser workers start only then). */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<Pool> {
    const pool = new Pool(module, memory, threads);
    const failed = () => {
      if (pool.#failure) throw pool.#failure;
    };
    try {
      await pool.#channel.awaitReadyAsync(threads - 1, START_TIMEOUT_MS, failed);
    } catch (e) {
      throw pool.#startFailed(e);
    }
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
    this.#channel = new SyncChannel(control);
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
    const channel = this.#channel;
    channel.post(this.#ids.get(kernel)!, args, nt);
    callKernel(fn, 0, nt, channel.argBlock, args.length);
    this.#shares[0]++;
    try {
      // A window's main thread cannot sleep: it spins.
      channel.awaitDone(this.threads - 1, { canBlock: this.#canBlock });
    } catch (e) {
      throw new Error(`pool: kernel '${kernel}' failed: ${(e as Error).message}`);
    }
  }

  /** Kernel shares each thread has run since the pool started (index = thread id; 0 is the caller). */
  shares(): number[] {
    return Array.from({ length: this.threads }, (_, tid) => Atomics.load(this.#shares, tid));
  }

  close(): void {
    this.#channel.stop();
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }

  /** Shuts the threads of a pool that failed to start down; what to throw. */
  #startFailed(e: unknown): Error {
    this.close();
    return this.#failure ?? new Error(`pool: ${(e as Error).message}`);
  }
}
