/**
 * What native-gemm.ts (the caller) and native-worker.ts agree on: the worker's data and the
 * order of a product's arguments in the SyncChannel call.
 */

/** Call op codes. */
export const KIND_GEMM = 0; // one 2-D Gemm
export const KIND_BATCHED = 1; // one batched MatMul
export const KIND_Q8 = 2; // one 8-bit product (DynamicQuantizeMatMul)

/** Argument slots of a product (booleans as 0/1; a, b, c are byte offsets into the shared memory). */
export const ARG = { transA: 0, transB: 1, batch: 2, m: 3, k: 4, n: 5, a: 6, b: 7, c: 8 } as const;
export const ARG_COUNT = 9;

/** Argument slots of an 8-bit product y = x·Wᵀ + bias (byte offsets; bias 0 for none; codes are rows of k int8). */
export const ARG_Q8 = { rows: 0, k: 1, n: 2, x: 3, codes: 4, scale: 5, bias: 6, y: 7 } as const;
export const ARG_Q8_COUNT = 8;

export interface NativeWorkerData {
  memory: WebAssembly.Memory;
  /** The SyncChannel's block. */
  control: SharedArrayBuffer;
  threads: number;
}
