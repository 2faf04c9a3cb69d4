/** The WebAssembly backend: the arena, the kernel thread pool, and the GEMM choice. */
import { Arena } from './arena.js';
import { loadKernelModule } from './kernel-module.js';
import { Pool } from './pool.js';
const INITIAL_PAGES = 256; // 16 MiB; the arena grows on demand up to 4 GiB
export class WasmBackend {
    name = 'wasm';
    build;
    arena;
    #module;
    #pool;
    #gemm;
    #native;
    constructor(options, native) {
        const { build, module } = loadKernelModule(options.build);
        this.build = build;
        this.#module = module;
        const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: 65536, shared: true });
        this.#pool = new Pool(module, memory, options.threads);
        const base = Number(this.#pool.exports.heapBase());
        this.arena = new Arena(memory, base);
        this.#gemm = options.gemm;
        if (options.gemm !== 'wasm') {
            if (!native) {
                if (options.gemm === 'native')
                    throw new Error("engine: gemm 'native' is not available on this platform");
            }
            else
                this.#native = native(memory, options.threads);
        }
    }
    get threads() {
        return this.#pool.threads;
    }
    get gemm() {
        return this.#gemm;
    }
    /** Restarts the kernel threads with a new count; the arena and its data are kept. */
    setThreads(threads) {
        if (threads === this.#pool.threads)
            return;
        const memory = this.arena.memory;
        this.#pool.close();
        this.#pool = new Pool(this.#module, memory, threads);
    }
    alloc(bytes) {
        return this.arena.alloc(bytes);
    }
    free(handle) {
        this.arena.free(handle);
    }
    get bytesInUse() {
        return this.arena.bytesInUse;
    }
    get peakBytes() {
        return this.arena.peakBytes;
    }
    resetPeak() {
        this.arena.resetPeak();
    }
    read(addr, length, dtype) {
        const view = dtype === 'float32' ? this.arena.f32(addr, length) : this.arena.i32(addr, length);
        return view.slice();
    }
    write(addr, data) {
        const view = data instanceof Float32Array ? this.arena.f32(addr, data.length) : this.arena.i32(addr, data.length);
        view.set(data);
    }
    run(kernel, args, work) {
        this.#pool.run(kernel, args, work);
    }
    matmul(spec) {
        const native = this.#native;
        if (native && native.supports(spec) && (this.#gemm === 'native' || native.worthIt(spec))) {
            native.matmul(spec);
            return;
        }
        this.wasmMatmul(spec);
    }
    get hasNativeGemm() {
        return this.#native !== undefined;
    }
    /** The native GEMM, bypassing the size heuristic (benchmarks compare the two). */
    nativeMatmul(spec) {
        const native = this.#native;
        if (!native)
            throw new Error('engine: no native GEMM on this platform');
        if (!native.supports(spec))
            throw new Error(`engine: native GEMM does not support this layout (${JSON.stringify(spec)})`);
        native.matmul(spec);
    }
    /** The WebAssembly GEMM, bypassing the native choice (benchmarks compare the two). */
    wasmMatmul(spec) {
        const { batch, m, n, k, a, aStrides, b, bStrides, c } = spec;
        const pool = this.#pool;
        const perThread = Number(pool.exports.gemmWorkBytes(m, n, k));
        const work = this.arena.alloc(perThread * pool.threads);
        try {
            pool.run('gemm', [batch, m, n, k, a, ...aStrides, b, ...bStrides, c, m * n, n, spec.alpha ?? 1, spec.beta ?? 0, work, perThread], 2 * batch * m * n * k);
        }
        finally {
            this.arena.free(work);
        }
    }
    close() {
        this.#pool.close();
        this.#native?.close();
    }
}
//# sourceMappingURL=wasm-backend.js.map