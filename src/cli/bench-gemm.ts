/** `nystromformer bench gemm`: GFLOP/s of C = A·B on the WebAssembly kernel and the native one. */
import { configureEngine, empty, randn, tidy } from '../engine/index.js';

export interface BenchGemmOptions {
  json?: boolean;
  threads?: number;
  /** [M, K, N] per product. */
  sizes: [number, number, number][];
  impl: string;
  seconds: number;
}

interface Result {
  bench: 'gemm';
  impl: 'wasm' | 'native';
  threads: number;
  m: number;
  k: number;
  n: number;
  gflops: number;
}

export async function benchGemm(options: BenchGemmOptions): Promise<void> {
  const sizes = options.sizes;
  const impls = options.impl.split(',').map((s) => s.trim());
  for (const impl of impls) {
    if (impl !== 'wasm' && impl !== 'native') throw new Error(`bench gemm: unknown impl '${impl}' (wasm, native)`);
  }
  const engine = configureEngine({ threads: options.threads, gemm: impls.includes('native') ? 'auto' : 'wasm' });
  if (!options.json) console.log(`threads ${engine.threads}, kernels: ${engine.build}`);
  for (const [m, k, n] of sizes) {
    for (const impl of impls as ('wasm' | 'native')[]) {
      if (impl === 'native' && !engine.hasNativeGemm) {
        console.error('bench gemm: native GEMM unavailable on this platform; skipped');
        continue;
      }
      const seconds = tidy(() => {
        const a = randn([m, k], 1);
        const b = randn([k, n], 2);
        const c = empty([m, n]);
        const spec = { batch: 1, m, n, k, a, aStrides: [0, k, 1] as const, b, bStrides: [0, n, 1] as const, c };
        const call = impl === 'wasm' ? () => engine.wasmMatmul(spec) : () => engine.nativeMatmul(spec);
        return medianSeconds(call, options.seconds);
      });
      const r: Result = { bench: 'gemm', impl, threads: engine.threads, m, k, n, gflops: round((2 * m * k * n) / seconds / 1e9) };
      console.log(options.json ? JSON.stringify(r) : `${impl.padEnd(6)} ${m}×${k}×${n}: ${r.gflops} GFLOP/s`);
    }
  }
}

/** Median time of repeated calls after one warm-up, running for at least `budget` seconds (≥ 3 calls). */
export function medianSeconds(fn: () => void, budget: number): number {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || performance.now() - start < budget * 1000) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((x, y) => x - y);
  return times[times.length >> 1];
}

const round = (x: number) => Math.round(x * 10) / 10;
