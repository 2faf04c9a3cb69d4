// Counter-based uniform random numbers: element i of a stream is a pure function of
// (seed, offset + i), so results do not depend on the thread count and any slice of a stream
// can be regenerated.
//   key    = mix(seed · γ)                       (γ = 2^64/φ, odd)
//   z      = mix(key + (offset + i + 1) · γ)     (splitmix64 output number offset + i)
//   y[i]   = (z >> 40) · 2^-24                   top 24 bits: exact in f32, range [0, 1 − 2^-24]
// mix is a 64-bit finaliser (xor-shift / multiply, three rounds) with full avalanche.
import { GAMMA, mix, streamKey } from './hash';
import { shareStart } from './partition';

const INV24: f32 = 1.0 / 16777216.0; // 2^-24

/** y[i] = uniform [0, 1) for stream (seed, counter offset + i), i < n. offset is taken as
 *  unsigned 32-bit; counters run in 64 bits (no wrap). */
export function randomUniform(tid: i32, nt: i32, y: usize, n: i32, seed: i32, offset: i32): void {
  const i0 = shareStart(n, tid, nt, 64), i1 = shareStart(n, tid + 1, nt, 64);
  const key = streamKey(seed);
  let ctr = key + (<u64><u32>offset + <u64>i0) * GAMMA;
  for (let i = i0; i < i1; i++) {
    ctr += GAMMA; // state after (offset + i + 1) increments
    store<f32>(y + (<usize>i << 2), <f32>(mix(ctr) >> 40) * INV24);
  }
}

/** Inverted dropout's mask from stream (seed, counter i): y[i] = scale where uniform − p > 0, else 0
 *  (what rand, addScalar(−p), step and mulScalar(scale) give, in one pass). */
export function dropoutMask(tid: i32, nt: i32, y: usize, n: i32, seed: i32, p: f32, scale: f32): void {
  const i0 = shareStart(n, tid, nt, 64), i1 = shareStart(n, tid + 1, nt, 64);
  const key = streamKey(seed);
  let ctr = key + <u64>i0 * GAMMA;
  for (let i = i0; i < i1; i++) {
    ctr += GAMMA;
    const u = <f32>(mix(ctr) >> 40) * INV24;
    store<f32>(y + (<usize>i << 2), u - p > 0 ? scale : 0);
  }
}
