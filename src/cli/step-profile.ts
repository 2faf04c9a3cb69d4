/**
 * `--profile` of the step benchmarks: one more step with every kernel call timed, printed as one line
 * per kernel (the most time first) and one for the time outside every kernel.
 */
import { backend, WasmBackend, type KernelTime } from '../engine/index.js';

/** Runs `step` once under the profiler and prints its kernels; `context` goes on every JSON line. */
export function printStepProfile(step: () => void, context: Record<string, unknown>, json: boolean | undefined): void {
  const b = backend();
  if (!(b instanceof WasmBackend)) throw new Error(`--profile times kernels on the CPU backend only (the ${b.name} backend runs them asynchronously)`);
  const t0 = performance.now();
  const kernels = b.profile(step);
  const total = performance.now() - t0;
  const inKernels = kernels.reduce((s, k) => s + k.ms, 0);
  const rows: KernelTime[] = [...kernels, { kernel: '(outside kernels)', calls: 0, ms: total - inKernels, flops: 0 }];
  for (const { kernel, calls, ms, flops } of rows) {
    // matrix products also say how fast they ran, for comparing against the machine's peak
    const gflops = flops > 0 && ms > 0 ? Number((flops / ms / 1e6).toFixed(1)) : undefined;
    const line = { bench: 'step-profile', ...context, kernel, calls, ms: Number(ms.toFixed(2)), share: Number((ms / total).toFixed(4)), gflops };
    const rate = gflops === undefined ? '' : `  ${gflops} GFLOP/s`;
    console.log(json ? JSON.stringify(line) : `  ${kernel.padEnd(22)} ${String(calls).padStart(6)} calls ${ms.toFixed(1).padStart(9)} ms ${(100 * ms / total).toFixed(1).padStart(5)}%${rate}`);
  }
  const products = kernels.filter((k) => k.flops > 0);
  const productMs = products.reduce((s, k) => s + k.ms, 0), productFlops = products.reduce((s, k) => s + k.flops, 0);
  if (productMs > 0 && !json) {
    console.log(`  matrix products: ${(productFlops / 1e9).toFixed(1)} GFLOP in ${productMs.toFixed(0)} ms (${(productFlops / productMs / 1e6).toFixed(1)} GFLOP/s), ${(100 * productMs / total).toFixed(1)}% of the step`);
  }
}
