/**
 * Per-thread counts of kernel shares run, kept after the pool's control block. Each thread
 * counts its own shares after running them, so a count proves that the thread took part
 * (tests and diagnostics read them; the caller's own count is slot 0).
 */
import { CHANNEL_BYTES } from '../sync-channel.js';

export const MAX_THREADS = 256;
export const SHARES_OFFSET = CHANNEL_BYTES; // bytes, a multiple of 4
export const POOL_CONTROL_BYTES = SHARES_OFFSET + 4 * MAX_THREADS;

export function sharesView(control: SharedArrayBuffer): Int32Array {
  return new Int32Array(control, SHARES_OFFSET, MAX_THREADS);
}
