/**
 * The engine's single backend, created on first use. Settings come from `configureEngine`,
 * else from the environment: NYSTROMFORMER_THREADS, NYSTROMFORMER_GEMM (auto | wasm | native).
 */
import { defaultThreads, env, nativeGemmFactory } from '#platform';
import { GemmChoice } from './backend/backend.js';
import { KernelBuild } from './backend/kernel-module.js';
import { WasmBackend } from './backend/wasm-backend.js';

export interface EngineOptions {
  /** Kernel threads, caller included (default: available cores). */
  threads?: number;
  /** Where large matrix products run (default 'auto': native when measured faster). */
  gemm?: GemmChoice;
  /** Force the plain-SIMD kernels even where relaxed SIMD is available. */
  build?: KernelBuild;
}

let current: WasmBackend | undefined;

export function backend(): WasmBackend {
  return (current ??= create({}));
}

/**
 * Sets the engine up. Changing only the thread count keeps all tensors; changing the GEMM
 * choice or kernel build starts a fresh backend, so it is refused while tensors are alive.
 */
export function configureEngine(options: EngineOptions): WasmBackend {
  if (current && options.gemm === undefined && options.build === undefined) {
    if (options.threads !== undefined) current.setThreads(validThreads(options.threads));
    return current;
  }
  if (current) {
    if (current.bytesInUse > 0) {
      throw new Error(`configureEngine: ${current.bytesInUse} bytes of tensors are alive; set gemm/build before creating tensors`);
    }
    current.close();
  }
  current = create(options);
  return current;
}

function create(options: EngineOptions): WasmBackend {
  const threads = validThreads(options.threads ?? numberFromEnv('NYSTROMFORMER_THREADS') ?? defaultThreads());
  const gemm = options.gemm ?? gemmFromEnv() ?? 'auto';
  return new WasmBackend({ threads, gemm, build: options.build }, nativeGemmFactory());
}

function validThreads(t: number): number {
  if (!Number.isInteger(t) || t < 1 || t > 256) throw new Error(`engine: threads must be an integer in [1, 256], got ${t}`);
  return t;
}

function numberFromEnv(name: string): number | undefined {
  const v = env(name);
  return v === undefined || v === '' ? undefined : Number(v);
}

function gemmFromEnv(): GemmChoice | undefined {
  const v = env('NYSTROMFORMER_GEMM');
  if (v === undefined || v === '') return undefined;
  if (v !== 'auto' && v !== 'wasm' && v !== 'native') {
    throw new Error(`NYSTROMFORMER_GEMM must be auto, wasm or native, got '${v}'`);
  }
  return v;
}
