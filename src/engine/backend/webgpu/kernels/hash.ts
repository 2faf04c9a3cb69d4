/**
 * WGSL helpers for the counter-based hash of ../../../kernels/hash.ts (splitmix64's output
 * function), bit for bit: random.ts's uniform streams and attention.ts's dropout masks must equal
 * the WebAssembly kernels' so that a training run is the same on either backend.
 *
 * WGSL has no 64-bit integers: a u64 is a vec2<u32> (lo, hi). Adds carry by hand; a 32×32→64
 * product is built from 16-bit halves (each partial product fits in 32 bits); a 64×64 product
 * keeps its low 64 bits, as u64 arithmetic does (the cross terms only reach the high word, where
 * u32 multiplication wraps as wanted). Paste HASH64 into a shader's prelude.
 */
export const HASH64 = /* wgsl */ `
// splitmix64's increment γ = 0x9e3779b97f4a7c15 as (lo, hi)
const H64_GAMMA = vec2u(0x7f4a7c15u, 0x9e3779b9u);

fn h64_add(a: vec2u, b: vec2u) -> vec2u {
  let lo = a.x + b.x;
  return vec2u(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// a >> s for 0 < s < 64 (a shift by 32 or more within one word would be taken mod 32)
fn h64_shr(a: vec2u, s: u32) -> vec2u {
  if (s >= 32u) { return vec2u(a.y >> (s - 32u), 0u); }
  return vec2u((a.x >> s) | (a.y << (32u - s)), a.y >> s);
}

// The full 64-bit product of two u32s.
fn h64_mul32(a: u32, b: u32) -> vec2u {
  let a0 = a & 0xffffu; let a1 = a >> 16u;
  let b0 = b & 0xffffu; let b1 = b >> 16u;
  let ll = a0 * b0; let lh = a0 * b1; let hl = a1 * b0; let hh = a1 * b1;
  let mid = lh + hl; // may wrap: the lost carry is worth 2^48, i.e. 2^16 in the high word
  let midCarry = select(0u, 0x10000u, mid < lh);
  let lo = ll + (mid << 16u);
  let loCarry = select(0u, 1u, lo < ll);
  return vec2u(lo, hh + (mid >> 16u) + midCarry + loCarry);
}

// The low 64 bits of a·b.
fn h64_mul(a: vec2u, b: vec2u) -> vec2u {
  let p = h64_mul32(a.x, b.x);
  return vec2u(p.x, p.y + a.x * b.y + a.y * b.x);
}

// The finaliser: three xor-shift / multiply rounds.
fn h64_mix(z0: vec2u) -> vec2u {
  var z = h64_mul(z0 ^ h64_shr(z0, 30u), vec2u(0x1ce4e5b9u, 0xbf58476du));
  z = h64_mul(z ^ h64_shr(z, 27u), vec2u(0x133111ebu, 0x94d049bbu));
  return z ^ h64_shr(z, 31u);
}

// The stream key of a seed (an i32 taken as u32): mix(seed·γ + γ).
fn h64_streamKey(seed: u32) -> vec2u {
  return h64_mix(h64_add(h64_mul(vec2u(seed, 0u), H64_GAMMA), H64_GAMMA));
}

// Number c of a stream, c ≥ 1 (a 64-bit counter): mix(key + c·γ).
fn h64_stream(key: vec2u, c: vec2u) -> vec2u {
  return h64_mix(h64_add(key, h64_mul(c, H64_GAMMA)));
}
`;
