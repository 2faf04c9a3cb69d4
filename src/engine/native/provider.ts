/**
 * Adapts NativeGemm to the WebAssembly backend: decides which products it can take (layouts
 * onnxruntime reads directly) and which are worth it, and starts onnxruntime only on first use.
 */
import type { MatmulSpec } from '../backend/backend.js';
import type { NativeGemmProvider } from '../backend/host.js';
import { Q8_ALIGN } from '../backend/linear-q8.js';
import { NativeGemm } from './native-gemm.js';

/**
 * Where MLAS beats the WebAssembly kernel, from `bench gemm` on 2 cores (GFLOP/s, wasm vs
 * native): 512³ 78 vs 48, 512×768×768 69 vs 76, 2048×768×768 82 vs 234, 4096×64×64 72 vs 51,
 * 4096×64×512 74 vs 100; batched skinny products (12 × 16384×64×64, attention's) 40 vs 8.5.
 * Below ~2²⁸ multiply-adds the per-call overhead (50–500 µs: waking the worker and onnxruntime's
 * threads) and the copies out of the shared arena cost more than MLAS saves; a narrow output
 * (m or n < 256) or a true batch (several B matrices) runs slower natively at any size.
 */
const MIN_MACS = 1 << 28;
const MIN_OUTPUT_DIM = 256;
const MIN_INNER_DIM = 64;

export function nativeGemmProvider(memory: WebAssembly.Memory, threads: number): NativeGemmProvider {
  let gemm: NativeGemm | undefined;
  return {
    supports: (spec) => layout(spec) !== undefined,
    worthIt: (spec) => {
      const { batch, m, n, k } = spec;
      const oneB = batch === 1 || spec.bStrides[0] === 0;
      return oneB && batch * m * n * k >= MIN_MACS && Math.min(m, n) >= MIN_OUTPUT_DIM && k >= MIN_INNER_DIM;
    },
    matmul(spec) {
      const l = layout(spec);
      if (!l) throw new Error('native GEMM: unsupported operand layout');
      if ((spec.alpha ?? 1) !== 1 || (spec.beta ?? 0) !== 0) throw new Error('native GEMM: only C = A·B');
      gemm ??= NativeGemm.create(memory, threads);
      gemm.matmul(spec.a, spec.b, spec.c, spec.batch, spec.m, spec.k, spec.n, l.transA, l.transB, l.bBroadcast);
    },
    takesQ8: ({ rows, k, n }, forced) =>
      // the codes' rows must be exactly k bytes (no padding) for onnxruntime to read them as [n, k]
      k % Q8_ALIGN === 0 && (forced || (rows * n * k >= MIN_MACS && Math.min(rows, n) >= MIN_OUTPUT_DIM)),
    linearQ8({ x, codes, scale, bias, y, rows, k, n }) {
      gemm ??= NativeGemm.create(memory, threads);
      gemm.linearQ8(x, codes, scale, bias ?? 0, y, rows, k, n);
    },
    close: () => gemm?.close(),
  };
}

/** The transposes that make both operands dense row-major blocks, or undefined if none do. */
function layout({ batch, m, n, k, aStrides, bStrides, alpha, beta }: MatmulSpec<number>) {
  if ((alpha ?? 1) !== 1 || (beta ?? 0) !== 0) return undefined;
  const [ab, ar, ac] = aStrides;
  const [bb, br, bc] = bStrides;
  const transA = !(ac === 1 && ar === k) && ar === 1 && ac === m;
  const transB = !(bc === 1 && br === n) && br === 1 && bc === k;
  const aDense = (ac === 1 && ar === k) || transA;
  const bDense = (bc === 1 && br === n) || transB;
  const aBatchOk = batch === 1 || ab === m * k;
  const bBroadcast = batch > 1 && bb === 0;
  const bBatchOk = batch === 1 || bBroadcast || bb === k * n;
  if (!aDense || !bDense || !aBatchOk || !bBatchOk) return undefined;
  return { transA, transB, bBroadcast };
}
