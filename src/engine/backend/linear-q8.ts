/** The kernels' way to an 8-bit product, for every backend: quantize x's rows, then the int8 GEMM. */
import type { Backend, LinearQ8Spec } from './backend.js';

/** Codes per row are padded to a multiple of this (one SIMD vector); padding codes are 0. */
export const Q8_ALIGN = 16;

export const paddedLength = (k: number): number => Math.ceil(k / Q8_ALIGN) * Q8_ALIGN;

export function linearQ8Kernels(b: Backend, { x, codes, scale, sums, bias, y, rows, k, n }: LinearQ8Spec): void {
  const kPad = paddedLength(k);
  const q = b.allocate(rows * kPad);
  const params = b.allocate(rows * 8);
  try {
    b.dispatch('quantizeRows', [x, { handle: q, byteOffset: 0 }, { handle: params, byteOffset: 0 }, rows, k, kPad], rows * k);
    b.dispatch('gemmQ8', [{ handle: q, byteOffset: 0 }, { handle: params, byteOffset: 0 }, codes, scale, sums, bias, y, rows, n, kPad], rows * n * kPad);
  } finally {
    b.free(q);
    b.free(params);
  }
}
