/** Timing repeated calls of a computation, on any backend: what the benchmarks and the demo share. */
import { backend } from './engine.js';

/**
 * One untimed warm-up call (arena growth, kernel threads, packing buffers, shader compilation),
 * then the median in ms of timed calls — at least `repeats`, and for at least `seconds` — each
 * until the device has run it (a GPU queue drains: backend().sync()); and the backend's
 * high-water mark above its level before, in MiB.
 */
export async function timeCalls(fn: () => void, repeats: number, seconds = 0): Promise<{ ms: number; peakMb: number }> {
  const b = backend();
  const before = b.bytesInUse;
  b.resetPeak();
  fn();
  await b.sync();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < repeats || performance.now() - start < seconds * 1000) {
    const t0 = performance.now();
    fn();
    await b.sync();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), peakMb: (b.peakBytes - before) / 2 ** 20 };
}

/** The middle value (the upper one of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[sorted.length >> 1];
}
