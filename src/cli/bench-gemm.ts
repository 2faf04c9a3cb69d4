/** `nystromformer bench gemm`: GFLOP/s of C = A·B on the WebAssembly kernel, the native one and WebGPU. */
import { backend, configureEngine, empty, randn, setBackend, type Tensor } from '../engine/index.js';

type WasmBackend = ReturnType<typeof configureEngine>;
import { timeCalls } from './step-timer.js';

export interface BenchGemmOptions {
  json?: boolean;
  threads?: number;
  /** [M, K, N] per product. */
  sizes: [number, number, number][];
  impl: string;
  seconds: number;
}

const IMPLS = ['wasm', 'native', 'webgpu'] as const;
type Impl = (typeof IMPLS)[number];

interface Result {
  bench: 'gemm';
  impl: Impl;
  threads: number;
  m: number;
  k: number;
  n: number;
  gflops: number;
}

export async function benchGemm(options: BenchGemmOptions): Promise<void> {
  const impls = options.impl.split(',').map((s) => s.trim()) as Impl[];
  for (const impl of impls) if (!IMPLS.includes(impl)) throw new Error(`bench gemm: unknown impl '${impl}' (${IMPLS.join(', ')})`);
  const engine = configureEngine({ threads: options.threads, gemm: impls.includes('native') ? 'auto' : 'wasm' });
  if (!options.json) console.log(`threads ${engine.threads}, kernels: ${engine.build}`);
  for (const [m, k, n] of options.sizes) {
    for (const impl of impls) {
      if (impl === 'native' && !engine.hasNativeGemm) {
        console.error('bench gemm: native GEMM unavailable on this platform; skipped');
        continue;
      }
      await setBackend(impl === 'webgpu' ? 'webgpu' : 'wasm');
      const [a, b, c] = [randn([m, k], 1), randn([k, n], 2), empty([m, n])];
      try {
        const ms = (await timeCalls(product(engine, impl, { batch: 1, m, n, k, a, aStrides: [0, k, 1], b, bStrides: [0, n, 1], c }), 3, options.seconds)).ms;
        const r: Result = { bench: 'gemm', impl, threads: backend().threads, m, k, n, gflops: round((2 * m * k * n) / ms / 1e6) };
        console.log(options.json ? JSON.stringify(r) : `${impl.padEnd(6)} ${m}×${k}×${n}: ${r.gflops} GFLOP/s`);
      } finally {
        [a, b, c].forEach((t) => t.dispose());
      }
    }
  }
  await setBackend('wasm');
}

function product(engine: WasmBackend, impl: Impl, spec: { batch: number; m: number; n: number; k: number; a: Tensor; aStrides: readonly [number, number, number]; b: Tensor; bStrides: readonly [number, number, number]; c: Tensor }): () => void {
  if (impl === 'wasm') return () => engine.wasmMatmul(spec);
  if (impl === 'native') return () => engine.nativeMatmul(spec);
  return () => backend().matmul(spec);
}

const round = (x: number) => Math.round(x * 10) / 10;
