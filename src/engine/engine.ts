/**
 * The engine's single backend. Settings come from `initEngine`/`configureEngine`, else from the
 * environment: NYSTROMFORMER_THREADS, NYSTROMFORMER_GEMM (auto | wasm | native).
 *
 * Node can create it lazily and synchronously on first use. Browsers cannot (kernels are fetched,
 * workers start only once the caller yields), so there `await initEngine()` comes first; after it
 * every op is synchronous. In browsers the engine is best run inside a Web Worker: a window's main
 * thread may not sleep in Atomics.wait, so it spins while kernel threads work.
 */
import { platform } from './backend/platform.js';
import type { Backend, GemmChoice } from './backend/backend.js';
import { KernelBuild } from './backend/kernel-module.js';
import { WasmBackend } from './backend/wasm-backend.js';
import { WebGpuBackend } from './backend/webgpu/webgpu-backend.js';
import { setDebugChecks } from './checks.js';

export interface EngineOptions {
  /** Kernel threads, caller included (default: available cores). */
  threads?: number;
  /** Where large matrix products run (default 'auto': native when measured faster). */
  gemm?: GemmChoice;
  /** Force the plain-SIMD kernels even where relaxed SIMD is available. */
  build?: KernelBuild;
  /** Run the host-reading input checks (mask values, finiteness) in every op, even inside models (default: NYSTROMFORMER_DEBUG_CHECKS=1). */
  debugChecks?: boolean;
}

let current: WasmBackend | undefined;
/** A backend installed with useBackend, which ops use instead of the WebAssembly one. */
let installed: Backend | undefined;
let initQueue: Promise<unknown> = Promise.resolve();

/** The engine's backend, as the contract that ops program against. */
export function backend(): Backend {
  return installed ?? (current ??= create({}));
}

/**
 * Runs every op on `next` (any implementation of the Backend contract, e.g. a GPU one) from now
 * on; undefined goes back to the WebAssembly backend, which configureEngine and initEngine keep
 * setting up. Refused while tensors are alive on the backend in use: they could not move.
 */
export function useBackend(next: Backend | undefined): void {
  const active = installed ?? current;
  if (active && active !== (next ?? current) && active.bytesInUse > 0) {
    throw new Error(`useBackend: ${active.bytesInUse} bytes of tensors are alive on the ${active.name} backend; dispose them first`);
  }
  installed = next;
}

/** Where ops run: 'wasm' (CPU: WebAssembly threads), 'webgpu', or 'auto' (WebGPU where an adapter exists). */
export type Device = 'wasm' | 'webgpu' | 'auto';

let gpu: Promise<WebGpuBackend> | undefined;

/**
 * Chooses the device every op runs on from now on (default: NYSTROMFORMER_DEVICE, else 'wasm').
 * 'webgpu' fails with what is missing where there is no adapter; 'auto' then falls back to
 * 'wasm'. Refused while tensors are alive on the backend in use (they could not move).
 */
export async function setBackend(device: Device = deviceFromEnv() ?? 'wasm'): Promise<Backend> {
  if (device === 'wasm') {
    useBackend(undefined);
    return initEngine();
  }
  let next: WebGpuBackend;
  try {
    next = await (gpu ??= WebGpuBackend.create().catch((e: Error) => {
      gpu = undefined;
      throw e;
    }));
  } catch (e) {
    if (device === 'auto') return setBackend('wasm');
    throw e;
  }
  useBackend(next);
  return next;
}

function deviceFromEnv(): Device | undefined {
  const v = platform.env('NYSTROMFORMER_DEVICE');
  if (v === undefined || v === '') return undefined;
  if (v === 'cpu') return 'wasm';
  if (v !== 'wasm' && v !== 'webgpu' && v !== 'auto') throw new Error(`NYSTROMFORMER_DEVICE must be cpu (or wasm), webgpu or auto, got '${v}'`);
  return v;
}

/**
 * Sets the engine up. Changing only the thread count keeps all tensors; changing the GEMM
 * choice or kernel build starts a fresh backend, so it is refused while tensors are alive.
 * Returns the WebAssembly backend itself, with its diagnostics (build, GEMM counts, shares).
 */
export function configureEngine(options: EngineOptions): WasmBackend {
  if (options.debugChecks !== undefined) setDebugChecks(options.debugChecks);
  if (current && options.gemm === undefined && options.build === undefined) {
    if (options.threads !== undefined) current.setThreads(validThreads(options.threads));
    return current;
  }
  closeForRestart('configureEngine');
  current = create(options);
  return current;
}

/**
 * Sets the engine up without blocking: fetches and compiles the kernels and waits for the kernel
 * threads asynchronously. Required in browsers before any op; optional in Node. Same rules as
 * `configureEngine`: a thread-count change keeps tensors, other changes need none alive.
 */
export function initEngine(options: EngineOptions = {}): Promise<WasmBackend> {
  // One initialisation at a time: a second call starts from the backend the first one left.
  const next = initQueue.then(() => initNow(options));
  initQueue = next.catch(() => undefined);
  return next;
}

async function initNow(options: EngineOptions): Promise<WasmBackend> {
  if (options.debugChecks !== undefined) setDebugChecks(options.debugChecks);
  if (current && options.gemm === undefined && options.build === undefined) {
    if (options.threads !== undefined) await current.setThreadsAsync(validThreads(options.threads));
    return current;
  }
  closeForRestart('initEngine');
  current = await WasmBackend.init(...resolve(options));
  return current;
}

function closeForRestart(caller: string): void {
  if (!current) return;
  if (current.bytesInUse > 0) {
    throw new Error(`${caller}: ${current.bytesInUse} bytes of tensors are alive; set gemm/build before creating tensors`);
  }
  current.close();
  current = undefined;
}

function create(options: EngineOptions): WasmBackend {
  return WasmBackend.create(...resolve(options));
}

function resolve(options: EngineOptions): Parameters<typeof WasmBackend.create> {
  const threads = validThreads(options.threads ?? numberFromEnv('NYSTROMFORMER_THREADS') ?? platform.defaultThreads());
  const gemm = options.gemm ?? gemmFromEnv() ?? 'auto';
  return [{ threads, gemm, build: options.build }, platform.nativeGemmFactory()];
}

function validThreads(t: number): number {
  if (!Number.isInteger(t) || t < 1 || t > 256) throw new Error(`engine: threads must be an integer in [1, 256], got ${t}`);
  return t;
}

function numberFromEnv(name: string): number | undefined {
  const v = platform.env(name);
  return v === undefined || v === '' ? undefined : Number(v);
}

function gemmFromEnv(): GemmChoice | undefined {
  const v = platform.env('NYSTROMFORMER_GEMM');
  if (v === undefined || v === '') return undefined;
  if (v !== 'auto' && v !== 'wasm' && v !== 'native') {
    throw new Error(`NYSTROMFORMER_GEMM must be auto, wasm or native, got '${v}'`);
  }
  return v;
}
