/**
 * The engine's counter-based random streams on the host, bit-identical to the kernels
 * (kernels/random.ts and the attention-dropout masks): number i of the stream of `seed` is
 * splitmix64's output mix(key + (i + 1)·γ), key = mix(seed·γ + γ). 64-bit words are (hi, lo)
 * pairs of u32 so the loop stays in plain number arithmetic (BigInt is ~50× slower).
 */
type Word = [hi: number, lo: number];

const GAMMA: Word = [0x9e3779b9, 0x7f4a7c15];

/** The high 32 bits of the 64-bit product of two u32. */
function mulHigh(a: number, b: number): number {
  const a1 = a >>> 16, a0 = a & 0xffff, b1 = b >>> 16, b0 = b & 0xffff;
  const mid = a1 * b0 + a0 * b1 + ((a0 * b0) >>> 16); // < 3·2³², exact in a double
  return (a1 * b1 + Math.floor(mid / 65536)) >>> 0;
}

/** a·b mod 2⁶⁴. */
function mul([ah, al]: Word, [bh, bl]: Word): Word {
  return [(mulHigh(al, bl) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0, Math.imul(al, bl) >>> 0];
}

/** a + b mod 2⁶⁴. */
function add([ah, al]: Word, [bh, bl]: Word): Word {
  const lo = al + bl;
  return [(ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0, lo >>> 0];
}

/** z ^ (z >> s), 0 < s < 32. */
function xorShift([h, l]: Word, s: number): Word {
  return [(h ^ (h >>> s)) >>> 0, (l ^ ((l >>> s) | (h << (32 - s)))) >>> 0];
}

function mix(z: Word): Word {
  z = mul(xorShift(z, 30), [0xbf58476d, 0x1ce4e5b9]);
  z = mul(xorShift(z, 27), [0x94d049bb, 0x133111eb]);
  return xorShift(z, 31);
}

/** A seed's stream key (seed taken as unsigned 32-bit). */
function streamKey(seed: number): Word {
  return mix(add(mul([0, seed >>> 0], GAMMA), GAMMA));
}

/**
 * Calls visit(i, high 32 bits of number offset + i) for i < n: the words the kernels turn into
 * uniforms (top 24 bits) and dropout decisions (compared with p·2³²).
 */
export function streamWords(seed: number, offset: number, n: number, visit: (i: number, word: number) => void): void {
  const start = offset + 1; // counters run in 64 bits: offset + i + 1 may pass 2³²
  let ctr = add(streamKey(seed), mul([Math.floor(start / 2 ** 32), start >>> 0], GAMMA));
  for (let i = 0; i < n; i++) {
    visit(i, mix(ctr)[0]);
    ctr = add(ctr, GAMMA);
  }
}

/** The kernel randomUniform's numbers offset … offset + n − 1 of `seed`'s stream: [0, 1 − 2⁻²⁴]. */
export function uniformStream(seed: number, offset: number, n: number): Float32Array {
  const out = new Float32Array(n);
  streamWords(seed, offset, n, (i, word) => (out[i] = (word >>> 8) * 2 ** -24));
  return out;
}
