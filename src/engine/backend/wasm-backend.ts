/** The WebAssembly backend: the arena, the kernel thread pool, and the GEMM choice. */
import { Arena } from './arena.js';
import type { Backend, BufferRef, DType, GemmChoice, Handle, LinearQ8Spec, MatmulSpec, TypedArrayFor } from './backend.js';
import { linearQ8Kernels } from './linear-q8.js';
import { KernelProfile, profileLabel, type KernelTime } from './kernel-profile.js';
import { argKinds, type KernelArgs, type KernelName } from './kernel-table.js';
import { KernelBuild, KernelModule, loadKernelModule, loadKernelModuleAsync } from './kernel-module.js';
import type { NativeGemmFactory, NativeGemmProvider } from './host.js';
import { platform } from './platform.js';
import { Pool } from './pool.js';

const INITIAL_PAGES = 256; // 16 MiB; the arena grows on demand up to 4 GiB

export interface WasmBackendOptions {
  threads: number;
  gemm: GemmChoice;
  build?: KernelBuild;
}

function sharedMemory(): WebAssembly.Memory {
  platform.assertSharedMemory();
  return new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: 65536, shared: true });
}

/**
 * Handles are arena byte addresses; a BufferRef resolves to handle + byteOffset. Only this file
 * (and the kernels) ever see an address.
 */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly canReadSync = true;
  readonly build: KernelBuild;
  #arena: Arena;
  #module: WebAssembly.Module;
  #pool: Pool;
  #gemm: GemmChoice;
  #native: NativeGemmProvider | undefined;
  /** How many matrix products each GEMM ran (for tests and tuning). */
  readonly gemmCalls = { wasm: 0, native: 0 };
  #profile: KernelProfile | null = null;

  /** Loads the kernels and starts the threads synchronously (Node; browsers use `init`). */
  static create(options: WasmBackendOptions, native?: NativeGemmFactory): WasmBackend {
    const memory = sharedMemory();
    const kernels = loadKernelModule(platform, options.build);
    return new WasmBackend(kernels, memory, Pool.create(kernels.module, memory, options.threads), options, native);
  }

  /** Fetches and compiles the kernels and starts the threads without blocking the event loop. */
  static async init(options: WasmBackendOptions, native?: NativeGemmFactory): Promise<WasmBackend> {
    const memory = sharedMemory();
    const kernels = await loadKernelModuleAsync(platform, options.build);
    return new WasmBackend(kernels, memory, await Pool.start(kernels.module, memory, options.threads), options, native);
  }

  private constructor(kernels: KernelModule, memory: WebAssembly.Memory, pool: Pool, options: WasmBackendOptions, native?: NativeGemmFactory) {
    this.build = kernels.build;
    this.#module = kernels.module;
    this.#pool = pool;
    const base = Number(this.#pool.exports.heapBase());
    this.#arena = new Arena(memory, base);
    this.#gemm = options.gemm;
    if (options.gemm !== 'wasm') {
      if (!native) {
        if (options.gemm === 'native') {
          pool.close();
          throw new Error("engine: gemm 'native' is not available here: it needs Node.js with onnxruntime-node installed");
        }
      } else this.#native = native(memory, options.threads);
    }
  }

  get threads(): number {
    return this.#pool.threads;
  }

  get gemm(): GemmChoice {
    return this.#gemm;
  }

  /** Kernel shares each thread has run since the threads last started (index = thread id). */
  kernelShares(): number[] {
    return this.#pool.shares();
  }

  /** Restarts the kernel threads with a new count; the arena and its data are kept. */
  setThreads(threads: number): void {
    if (threads === this.#pool.threads) return;
    // The new pool starts before the old one closes, so a failed start leaves a working backend.
    const next = Pool.create(this.#module, this.#arena.memory, threads);
    this.#pool.close();
    this.#pool = next;
  }

  /** setThreads without blocking: the way to change the thread count in browsers. */
  async setThreadsAsync(threads: number): Promise<void> {
    if (threads === this.#pool.threads) return;
    const next = await Pool.start(this.#module, this.#arena.memory, threads);
    this.#pool.close();
    this.#pool = next;
  }

  allocate(bytes: number): Handle {
    return this.#arena.alloc(bytes) as Handle;
  }

  free(handle: Handle): void {
    this.#arena.free(handle);
  }

  get bytesInUse(): number {
    return this.#arena.bytesInUse;
  }

  get peakBytes(): number {
    return this.#arena.peakBytes;
  }

  resetPeak(): void {
    this.#arena.resetPeak();
  }

  readSync<D extends DType>(src: BufferRef, length: number, dtype: D): TypedArrayFor<D> {
    const addr = address(src);
    const view = dtype === 'float32' ? this.#arena.f32(addr, length) : this.#arena.i32(addr, length);
    return view.slice() as TypedArrayFor<D>;
  }

  /** Kernels finish before dispatch returns, so the data is already there. */
  async read<D extends DType>(src: BufferRef, length: number, dtype: D): Promise<TypedArrayFor<D>> {
    return this.readSync(src, length, dtype);
  }

  write(dst: BufferRef, data: Float32Array | Int32Array): void {
    const addr = address(dst);
    const view = data instanceof Float32Array ? this.#arena.f32(addr, data.length) : this.#arena.i32(addr, data.length);
    view.set(data);
  }

  dispatch<K extends KernelName>(kernel: K, args: KernelArgs<K>, work: number): void {
    this.#dispatch(kernel, args, work, this.#profile ? profileLabel(kernel, args[0]) : kernel);
  }

  /** dispatch, its time profiled under `label` (the GEMM's carries its shape). */
  #dispatch<K extends KernelName>(kernel: K, args: KernelArgs<K>, work: number, label: string, flops = 0): void {
    const values: readonly (number | BufferRef | null | ListArg)[] = args;
    const kinds = argKinds(kernel);
    const flat: number[] = [];
    const scratch: number[] = [];
    const temporary = (bytes: number) => {
      const at = this.#arena.alloc(bytes);
      scratch.push(at);
      return at;
    };
    try {
      for (let i = 0; i < kinds.length; i++) {
        const v = values[i];
        if (typeof v === 'number') {
          if (kinds[i] === 'scratch') flat.push(temporary(v * this.#pool.threads), v);
          else flat.push(v);
        } else if (v === null) flat.push(0);
        else if (isList(v)) {
          // an i32 array of integers or addresses (0 for null; past 2 GiB they wrap, and kernels read u32)
          const list = Int32Array.from(v, (x) => (typeof x === 'number' ? x : x === null ? 0 : address(x)));
          const at = temporary(Math.max(list.byteLength, 4));
          this.#arena.i32(at, list.length).set(list);
          flat.push(at);
        } else flat.push(address(v));
      }
      if (this.#profile) {
        const t0 = performance.now();
        this.#pool.run(kernel, flat, work);
        this.#profile.add(label, performance.now() - t0, flops);
      } else this.#pool.run(kernel, flat, work);
    } finally {
      for (const at of scratch) this.#arena.free(at);
    }
  }

  matmul(spec: MatmulSpec): void {
    const native = this.#native;
    const addressed = addressedSpec(spec);
    if (native && native.supports(addressed) && (this.#gemm === 'native' || native.worthIt(addressed))) {
      this.#timed(`gemm (native) ${spec.batch}×${spec.m}×${spec.k}×${spec.n}`, () => native.matmul(addressed), 2 * spec.batch * spec.m * spec.n * spec.k);
      this.gemmCalls.native++;
      // onnxruntime's product has no bias: the kernel's k = 0 case adds it in place (C = 1·C + bias)
      if (spec.bias) this.wasmMatmul({ ...spec, k: 0, alpha: 0, beta: 1 });
      return;
    }
    this.wasmMatmul(spec);
    this.gemmCalls.wasm++;
  }

  linearQ8(spec: LinearQ8Spec): void {
    const native = this.#native;
    const addressed: LinearQ8Spec<number> = {
      ...spec, x: address(spec.x), codes: address(spec.codes), scale: address(spec.scale), sums: address(spec.sums),
      bias: spec.bias && address(spec.bias), y: address(spec.y),
    };
    if (native?.takesQ8(addressed, this.#gemm === 'native')) {
      this.#timed('gemmQ8 (native)', () => native.linearQ8(addressed));
      this.gemmCalls.native++;
      return;
    }
    linearQ8Kernels(this, spec);
  }

  get hasNativeGemm(): boolean {
    return this.#native !== undefined;
  }

  /** The native GEMM, bypassing the size heuristic (benchmarks compare the two). */
  nativeMatmul(spec: MatmulSpec): void {
    const native = this.#native;
    if (!native) throw new Error('engine: no native GEMM on this platform');
    const addressed = addressedSpec(spec);
    if (!native.supports(addressed)) throw new Error(`engine: native GEMM does not support this layout (${JSON.stringify(addressed)})`);
    native.matmul(addressed);
  }

  /** The WebAssembly GEMM, bypassing the native choice (benchmarks compare the two). */
  wasmMatmul(spec: MatmulSpec): void {
    const { batch, m, n, k, a, aStrides, b, bStrides, c } = spec;
    const perThread = Number(this.#pool.exports.gemmWorkBytes(m, n, k));
    const args = [batch, m, n, k, a, ...aStrides, b, ...bStrides, c, m * n, n, spec.alpha ?? 1, spec.beta ?? 0, spec.bias ?? null, perThread] as const;
    const flops = 2 * batch * m * n * k;
    this.#dispatch('gemm', args, flops, this.#profile ? `gemm ${batch}×${m}×${k}×${n}` : 'gemm', flops);
  }

  /**
   * Runs `fn` with every kernel call timed: what each kernel took, calls and ms, the most first.
   * Profiles do not nest.
   */
  profile(fn: () => void): KernelTime[] {
    if (this.#profile) throw new Error('engine: a profile is already being taken');
    const profile = (this.#profile = new KernelProfile());
    try {
      fn();
    } finally {
      this.#profile = null;
    }
    return profile.entries();
  }

  #timed(kernel: string, fn: () => void, flops = 0): void {
    const t0 = this.#profile ? performance.now() : 0;
    fn();
    this.#profile?.add(kernel, performance.now() - t0, flops);
  }

  /** Kernels finish before dispatch returns. */
  async sync(): Promise<void> {}

  close(): void {
    this.#pool.close();
    this.#native?.close();
  }
}

type ListArg = readonly (number | BufferRef | null)[];

/** Array.isArray does not narrow readonly arrays. */
const isList = (v: number | BufferRef | null | ListArg): v is ListArg => Array.isArray(v);

/** The byte address a BufferRef names in the arena. */
function address(ref: BufferRef): number {
  return ref.handle + ref.byteOffset;
}

function addressedSpec(spec: MatmulSpec): MatmulSpec<number> {
  return { ...spec, a: address(spec.a), b: address(spec.b), c: address(spec.c), bias: spec.bias ? address(spec.bias) : null };
}
