/**
 * The one synchronous channel between a calling thread and its worker threads, over a shared
 * control block: the kernel pool, the native GEMM and the ONNX session all talk through it.
 *
 * A call writes an op code and float64 arguments, bumps GEN and wakes the servers; each server
 * that takes part runs it and bumps DONE; the caller blocks (spinning first: a wake-up costs
 * tens of microseconds) until every server is done. A server that throws leaves its message in
 * the block and the caller rethrows it; a server thread that exits marks the channel dead, so a
 * caller never waits on it forever. Host-neutral: only SharedArrayBuffer and Atomics.
 */

const GEN = 0; // call generation, bumped once per call
const DONE = 1; // servers finished with the current call
const OP = 2;
const NARGS = 3;
const NT = 4; // threads taking part in this call (the pool's tids ≥ NT skip it)
const STOP = 5; // set to shut the servers down
const READY = 6; // servers that have started
const FAILED = 7; // 1 + tid of the first server whose call (or start) threw, 0 if none
const DEAD = 8; // 1 once a server thread has exited without being stopped
const ERROR_LEN = 9; // bytes of the failure message
const ARGS_OFFSET = 64; // bytes; Float64Array of arguments from here (exact byte offsets up to 2⁵³)
export const MAX_ARGS = 32;
const ERROR_OFFSET = ARGS_OFFSET + 8 * MAX_ARGS;
const ERROR_BYTES = 4096;
/** Bytes of the control block; a user may keep its own data after them (the pool's share counts). */
export const CHANNEL_BYTES = ERROR_OFFSET + ERROR_BYTES;

/** Spin iterations before sleeping in Atomics.wait. */
const SPIN = 20000;

export interface WaitOptions {
  /** Whether this thread may sleep in Atomics.wait (false on a browser window's main thread). */
  canBlock?: boolean;
  timeoutMs?: number;
  /** Says what the caller waited for, in the timeout's message. */
  what?: string;
}

export class SyncChannel {
  readonly buffer: SharedArrayBuffer;
  readonly #words: Int32Array;
  readonly #args: Float64Array;
  readonly #error: Uint8Array;

  /** A new block, or a view of one made by the other side (passed to a worker as data). */
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(CHANNEL_BYTES)) {
    if (buffer.byteLength < CHANNEL_BYTES) throw new RangeError(`SyncChannel: a block needs ${CHANNEL_BYTES} bytes, got ${buffer.byteLength}`);
    this.buffer = buffer;
    this.#words = new Int32Array(buffer, 0, ARGS_OFFSET / 4);
    this.#args = new Float64Array(buffer, ARGS_OFFSET, MAX_ARGS);
    this.#error = new Uint8Array(buffer, ERROR_OFFSET, ERROR_BYTES);
  }

  // ——— the caller's side ———

  /** Posts a call to the servers without waiting (the pool's caller runs its own share meanwhile). */
  post(op: number, args: ArrayLike<number> = [], nt = 1): void {
    if (args.length > MAX_ARGS) throw new RangeError(`SyncChannel: at most ${MAX_ARGS} arguments, got ${args.length}`);
    this.#assertAlive();
    const w = this.#words;
    this.#args.set(args);
    w[OP] = op;
    w[NARGS] = args.length;
    w[NT] = nt;
    Atomics.store(w, DONE, 0);
    Atomics.add(w, GEN, 1); // seq-cst: publishes the writes above before GEN is seen
    Atomics.notify(w, GEN);
  }

  /** Blocks until `servers` servers are done with the last call; rethrows a server's failure. */
  awaitDone(servers: number, options: WaitOptions = {}): void {
    this.#waitUntil(DONE, () => Atomics.load(this.#words, DONE) >= servers, options);
    const failed = Atomics.exchange(this.#words, FAILED, 0);
    if (failed) throw new Error(this.#message(failed - 1));
  }

  /** post + awaitDone for a channel with one server. */
  call(op: number, args: ArrayLike<number> = [], options: WaitOptions = {}): void {
    this.post(op, args);
    this.awaitDone(1, options);
  }

  /** Blocks until `servers` servers have started; rethrows the failure of one that could not. */
  awaitReady(servers: number, options: WaitOptions = {}): void {
    this.#waitUntil(READY, () => this.#startedOrFailed(servers), options);
    this.#throwStartFailure();
  }

  /** awaitReady without blocking the event loop (a browser worker starts only when its creator yields). */
  async awaitReadyAsync(servers: number, timeoutMs: number, poll: () => void = () => {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#startedOrFailed(servers)) {
      poll();
      if (Date.now() > deadline) throw new Error(`only ${this.ready} of ${servers} worker threads started within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.#throwStartFailure();
  }

  /** Servers that have started. */
  get ready(): number {
    return Atomics.load(this.#words, READY);
  }

  /** Tells the servers to leave their loops. */
  stop(): void {
    Atomics.store(this.#words, STOP, 1);
    Atomics.add(this.#words, GEN, 1);
    Atomics.notify(this.#words, GEN);
  }

  // ——— the servers' side ———

  /** The generation a server has seen: read it before announcing readiness, a call may follow at once. */
  generation(): number {
    return Atomics.load(this.#words, GEN);
  }

  announceReady(): void {
    Atomics.add(this.#words, READY, 1);
    Atomics.notify(this.#words, READY);
  }

  /** Waits (blocking) for the call after generation `seen`; returns its generation, or -1 once stopped. */
  nextCall(seen: number): number {
    const w = this.#words;
    let spins = 0;
    while (Atomics.load(w, GEN) === seen) {
      if (++spins > SPIN) {
        Atomics.wait(w, GEN, seen);
        spins = 0;
      }
    }
    return Atomics.load(w, STOP) ? -1 : Atomics.load(w, GEN);
  }

  /**
   * nextCall for a server whose thread must keep its event loop turning (onnxruntime's run is a
   * promise): it sleeps in Atomics.waitAsync. A pending waitAsync does not keep a loop alive,
   * so the server holds a timer while it waits.
   */
  async nextCallAsync(seen: number): Promise<number> {
    const w = this.#words;
    for (let spins = 0; Atomics.load(w, GEN) === seen && spins < SPIN; spins++);
    if (Atomics.load(w, GEN) === seen) {
      const keepAlive = setInterval(() => {}, 1 << 30);
      const waiting = waitAsync(w, GEN, seen);
      if (waiting.async) await waiting.value;
      clearInterval(keepAlive);
    }
    return Atomics.load(w, STOP) ? -1 : Atomics.load(w, GEN);
  }

  get op(): number {
    return this.#words[OP];
  }

  get threads(): number {
    return this.#words[NT];
  }

  /** The current call's arguments (a view: copy what must outlive the call). */
  get args(): Float64Array {
    return this.#args.subarray(0, this.argCount);
  }

  /** The whole argument block, the call's `argCount` first: the pool reads it without making a view per call. */
  get argBlock(): Float64Array {
    return this.#args;
  }

  get argCount(): number {
    return this.#words[NARGS];
  }

  /** A server is done with the current call; `error` if it threw (the first one is kept). */
  done(tid: number, error?: unknown): void {
    if (error !== undefined) this.#recordFailure(tid, error);
    Atomics.add(this.#words, DONE, 1);
    Atomics.notify(this.#words, DONE);
  }

  /** A server could not start: its caller's awaitReady throws `error`. */
  failStart(tid: number, error: unknown): void {
    this.#recordFailure(tid, error);
    Atomics.notify(this.#words, READY);
  }

  /** A server thread is exiting: unless the channel was stopped, every waiting caller fails. */
  exited(what: string): void {
    if (Atomics.load(this.#words, STOP)) return;
    this.#recordFailure(0, new Error(`${what} exited`));
    Atomics.store(this.#words, DEAD, 1);
    for (const word of [DONE, READY]) Atomics.notify(this.#words, word);
  }

  #recordFailure(tid: number, error: unknown): void {
    if (Atomics.compareExchange(this.#words, FAILED, 0, tid + 1) !== 0) return;
    const text = !(error instanceof Error) ? String(error) : error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
    // /3: the worst-case growth of UTF-16 to UTF-8
    const { written } = new TextEncoder().encodeInto(text.slice(0, ERROR_BYTES / 3), this.#error);
    Atomics.store(this.#words, ERROR_LEN, written);
  }

  #message(tid: number): string {
    const len = Atomics.load(this.#words, ERROR_LEN);
    // slice() copies out of the shared block: TextDecoder takes only unshared bytes.
    const text = new TextDecoder().decode(this.#error.slice(0, len));
    return tid > 0 ? `${text} (thread ${tid})` : text; // the pool's kernel threads are 1…n−1
  }

  #startedOrFailed(servers: number): boolean {
    return Atomics.load(this.#words, READY) >= servers || Atomics.load(this.#words, FAILED) !== 0 || this.#dead();
  }

  #throwStartFailure(): void {
    const failed = Atomics.load(this.#words, FAILED);
    if (failed) throw new Error(this.#message(failed - 1));
  }

  #dead(): boolean {
    return Atomics.load(this.#words, DEAD) !== 0;
  }

  #assertAlive(): void {
    if (this.#dead()) throw new Error(this.#message(Atomics.load(this.#words, FAILED) - 1));
  }

  #waitUntil(word: number, reached: () => boolean, { canBlock = true, timeoutMs = Infinity, what = 'an answer' }: WaitOptions): void {
    const w = this.#words;
    const deadline = Date.now() + timeoutMs;
    let spins = 0;
    for (let seen = Atomics.load(w, word); !reached() && !this.#dead(); seen = Atomics.load(w, word)) {
      // A window's main thread cannot sleep: it spins.
      if (++spins > SPIN && canBlock) {
        if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs / 1000} s`);
        Atomics.wait(w, word, seen, Math.min(1000, timeoutMs));
        spins = 0;
      }
    }
    this.#assertAlive();
  }
}

/** Atomics.waitAsync (ES2024; Node 16, Chrome 87) is not in this project's ES2022 lib. */
type WaitAsync = (a: Int32Array, index: number, value: number) =>
  { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync: WaitAsync = (a, index, value) => (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(a, index, value);
