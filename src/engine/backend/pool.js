/**
 * A pool of kernel threads sharing the arena. The caller is thread 0 and blocks until every
 * thread has finished its share, so kernel calls stay synchronous.
 */
import { startThread } from '#platform';
import { instantiate } from './kernel-module.js';
import { ARGS_OFFSET, callKernel, CONTROL_BYTES, DONE, FAILED, GEN, KERNEL, kernelNames, MAX_ARGS, NARGS, NT, READY, SPIN, STOP, } from './pool-protocol.js';
const START_TIMEOUT_MS = 20000;
export class Pool {
    threads;
    exports;
    #ids;
    #ctrl;
    #args;
    #workers = [];
    #failure;
    constructor(module, memory, threads) {
        if (!Number.isInteger(threads) || threads < 1)
            throw new Error(`pool: threads must be a positive integer, got ${threads}`);
        this.threads = threads;
        this.exports = instantiate(module, memory);
        this.#ids = new Map(kernelNames(this.exports).map((n, i) => [n, i]));
        const control = new SharedArrayBuffer(CONTROL_BYTES);
        this.#ctrl = new Int32Array(control);
        this.#args = new Float64Array(control, ARGS_OFFSET, MAX_ARGS);
        const url = new URL('./pool-worker.js', import.meta.url);
        for (let tid = 1; tid < threads; tid++) {
            const data = { module, memory, control, tid };
            this.#workers.push(startThread(url, data, (e) => (this.#failure = e)));
        }
        this.#awaitReady();
    }
    /**
     * Runs `kernel(tid, nt, ...args)` on nt threads, nt chosen from `work` (≈ scalar operations):
     * small calls stay on the caller's thread, where waking workers would cost more than it saves.
     */
    run(kernel, args, work) {
        const fn = this.exports[kernel];
        if (!fn)
            throw new Error(`pool: no kernel named '${kernel}'`);
        const nt = work < 65536 ? 1 : this.threads;
        if (nt === 1) {
            fn(0, 1, ...args);
            return;
        }
        const ctrl = this.#ctrl;
        this.#args.set(args);
        ctrl[KERNEL] = this.#ids.get(kernel);
        ctrl[NARGS] = args.length;
        ctrl[NT] = nt;
        Atomics.store(ctrl, DONE, 0);
        Atomics.add(ctrl, GEN, 1);
        Atomics.notify(ctrl, GEN);
        callKernel(fn, 0, nt, this.#args, args.length);
        const workers = this.threads - 1;
        let spins = 0;
        for (let done = Atomics.load(ctrl, DONE); done !== workers; done = Atomics.load(ctrl, DONE)) {
            if (++spins > SPIN) {
                Atomics.wait(ctrl, DONE, done, 1000);
                spins = 0;
                if (this.#failure)
                    throw this.#failure;
            }
        }
        const failed = Atomics.exchange(ctrl, FAILED, 0);
        if (failed)
            throw new Error(`pool: kernel '${kernel}' failed on thread ${failed - 1}`);
    }
    close() {
        Atomics.store(this.#ctrl, STOP, 1);
        Atomics.add(this.#ctrl, GEN, 1);
        Atomics.notify(this.#ctrl, GEN);
        for (const w of this.#workers)
            w.terminate();
        this.#workers = [];
    }
    #awaitReady() {
        const want = this.threads - 1;
        const deadline = Date.now() + START_TIMEOUT_MS;
        for (let ready = Atomics.load(this.#ctrl, READY); ready < want; ready = Atomics.load(this.#ctrl, READY)) {
            if (this.#failure)
                throw this.#failure;
            if (Date.now() > deadline) {
                this.close();
                throw new Error(`pool: only ${ready} of ${want} worker threads started within ${START_TIMEOUT_MS} ms`);
            }
            Atomics.wait(this.#ctrl, READY, ready, 50);
        }
    }
}
//# sourceMappingURL=pool.js.map