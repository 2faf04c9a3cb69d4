// splitmix64's output function: the counter-based generators' hash (random.ts, and the attention
// dropout masks of flash-attention.ts). Not a kernel: index.ts does not export it.
export const GAMMA: u64 = 0x9e3779b97f4a7c15;
export const MIX1: u64 = 0xbf58476d1ce4e5b9;
export const MIX2: u64 = 0x94d049bb133111eb;

/** A 64-bit finaliser (xor-shift / multiply, three rounds) with full avalanche. */
// @ts-ignore: decorator
@inline export function mix(z: u64): u64 {
  z = (z ^ (z >> 30)) * MIX1;
  z = (z ^ (z >> 27)) * MIX2;
  return z ^ (z >> 31);
}

/** mix(z) >> 40: the final xor-shift by 31 cannot reach the top 24 bits, so it is left out. */
// @ts-ignore: decorator
@inline export function mixTop24(z: u64): u64 {
  z = (z ^ (z >> 30)) * MIX1;
  return ((z ^ (z >> 27)) * MIX2) >> 40;
}

/** The stream key of a seed: number i of the stream is mix(key + (i + 1)·γ). */
// @ts-ignore: decorator
@inline export function streamKey(seed: i32): u64 {
  return mix(<u64><u32>seed * GAMMA + GAMMA);
}
