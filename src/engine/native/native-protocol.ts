/**
 * Layout of the shared control block through which the main thread hands one
 * matrix product at a time to the native worker (native-worker.ts) and blocks
 * until it is done. Both sides import these constants so they cannot drift.
 *
 * Bytes [0, 64): Int32 words (state). Bytes [64, 192): Float64 parameters
 * (float64 so byte offsets above 2^31 in a 4 GiB memory stay exact).
 * Bytes [256, 256+ERROR_BYTES): UTF-8 error message written by the worker.
 */

/** Int32 index of the state word that both threads wait on / notify. */
export const STATE = 0;
/** Int32 index of the error message length in bytes. */
export const ERROR_LEN = 1;

/** State values. The worker sleeps while the state is not REQUEST. */
export const S_STARTING = 0; // worker still loading onnxruntime
export const S_READY = 1; // idle, last request (if any) succeeded
export const S_REQUEST = 2; // main thread posted a request
export const S_ERROR = 3; // last request (or startup) failed; message in error area
export const S_QUIT = 4; // main thread asks the worker to leave its loop
export const S_DEAD = 5; // worker thread has exited; no further requests possible

/** Float64 parameter slots (indices into the Float64Array view). */
export const P_KIND = 0; // 0 = 2-D Gemm, 1 = batched MatMul
export const P_TRANS_A = 1;
export const P_TRANS_B = 2;
export const P_BATCH = 3;
export const P_M = 4;
export const P_K = 5;
export const P_N = 6;
export const P_A = 7; // byte offsets into the shared memory
export const P_B = 8;
export const P_C = 9;
export const PARAM_COUNT = 10;

export const KIND_GEMM = 0;
export const KIND_BATCHED = 1;

export const PARAMS_BYTE_OFFSET = 64;
export const ERROR_BYTE_OFFSET = 256;
export const ERROR_BYTES = 4096;
export const CONTROL_BYTES = ERROR_BYTE_OFFSET + ERROR_BYTES;

/** What the main thread passes to the worker as workerData. */
export interface NativeWorkerData {
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  threads: number;
}

export interface ControlViews {
  i32: Int32Array;
  f64: Float64Array;
  err: Uint8Array;
}

export function controlViews(control: SharedArrayBuffer): ControlViews {
  return {
    i32: new Int32Array(control, 0, PARAMS_BYTE_OFFSET / 4),
    f64: new Float64Array(control, PARAMS_BYTE_OFFSET, PARAM_COUNT),
    err: new Uint8Array(control, ERROR_BYTE_OFFSET, ERROR_BYTES),
  };
}
