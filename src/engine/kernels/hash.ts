// splitmix64's output function: the counter-based generators' hash (random.ts, and the attention
// dropout masks of flash-attention.ts). Not a kernel: index.ts does not export it.
export const GAMMA: u64 = 0x9e3779b97f4a7c15;

/** A 64-bit finaliser (xor-shift / multiply, three rounds) with full avalanche. */
// @ts-ignore: decorator
@inline export function mix(z: u64): u64 {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

/** The stream key of a seed: number i of the stream is mix(key + (i + 1)·γ). */
// @ts-ignore: decorator
@inline export function streamKey(seed: i32): u64 {
  return mix(<u64><u32>seed * GAMMA + GAMMA);
}
