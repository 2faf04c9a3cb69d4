// Counter-based uniform random numbers: element i of a stream is a pure function of
// (seed, offset + i), so results do not depend on the thread count and any slice of a stream
// can be regenerated.
//   key    = mix(seed · γ)                       (γ = 2^64/φ, odd)
//   z      = mix(key + (offset + i + 1) · γ)     (splitmix64 output number offset + i)
//   y[i]   = (z >> 40) · 2^-24                   top 24 bits: exact in f32, range [0, 1 − 2^-24]
// mix is a 64-bit finaliser (xor-shift / multiply, three rounds) with full avalanche.
import { GAMMA, MIX1, MIX2, mix, mixTop24, streamKey } from './hash';
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

const MIX1_K = memory.data<u64>([MIX1]), MIX2_K = memory.data<u64>([MIX2]), STEP4_K = memory.data<u64>([GAMMA * 4]);

/** Inverted dropout in one pass, from stream (seed, counter i): element i is kept where
 *  uniform − p > 0 (what rand, addScalar(−p) and step give), y[i] = x[i]·m with m = scale if kept
 *  else 0, plus residual[i] when residual ≠ 0 (a residual connection's add, in the same pass).
 *  Unless mask = 0, the keep bits go to mask: bit i & 31 of u32 word i >> 5 (n/32 words where a
 *  float mask would take n: dropoutGrad reads them). The uniform is k·2^-24 for k the top 24 bits
 *  of the hash, so it exceeds p exactly when k > ⌊p·2^24⌋; and mix's last xor-shift (by 31)
 *  leaves the top 24 bits alone, so it is skipped. Thread shares are whole multiples of 64
 *  elements, so each mask word has one writer. */
export function dropout(tid: i32, nt: i32, x: usize, residual: usize, mask: usize, y: usize, n: i32, seed: i32, p: f32, scale: f32): void {
  const i0 = shareStart(n, tid, nt, 64), i1 = shareStart(n, tid + 1, nt, 64);
  const key = streamKey(seed);
  const t = <u64>Math.floor(<f64>p * 16777216.0);
  let ctr = key + <u64>i0 * GAMMA;
  let i = i0;
  let bits: u32 = 0;
  // four at a time: two i64x2 counters, their top-24-bit codes compared as one i32x4
  const vt = i32x4.splat(<i32>t), vs = f32x4.splat(scale), step = v128.load64_splat(STEP4_K);
  // loaded, not v128.const: V8 rebuilds a constant at every use in the loop, a loaded value stays in a register
  const m1 = v128.load64_splat(MIX1_K), m2 = v128.load64_splat(MIX2_K);
  let c01 = i64x2(ctr + GAMMA, ctr + GAMMA * 2), c23 = i64x2(ctr + GAMMA * 3, ctr + GAMMA * 4);
  for (; i + 4 <= i1; i += 4) {
    const k = i8x16.shuffle(mixTop24x2(c01, m1, m2), mixTop24x2(c23, m1, m2), 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
    const o = <usize>i << 2;
    const keep = i32x4.gt_s(k, vt);
    const v = f32x4.mul(v128.load(x + o), v128.and(keep, vs));
    v128.store(y + o, residual ? f32x4.add(v128.load(residual + o), v) : v);
    if (mask) {
      bits |= <u32>i32x4.bitmask(keep) << <u32>(i & 31);
      if (((i + 4) & 31) == 0) { store<u32>(mask + (<usize>(i >> 5) << 2), bits); bits = 0; }
    }
    c01 = i64x2.add(c01, step); c23 = i64x2.add(c23, step);
  }
  ctr += <u64>(i - i0) * GAMMA;
  for (; i < i1; i++) {
    ctr += GAMMA;
    const o = <usize>i << 2;
    const kept = mixTop24(ctr) > t;
    const v = load<f32>(x + o) * (kept ? scale : 0);
    store<f32>(y + o, residual ? load<f32>(residual + o) + v : v);
    if (kept) bits |= <u32>1 << <u32>(i & 31);
  }
  // the share's last, partial word (only at n)
  if (mask && i0 < i1 && (i1 & 31) != 0) store<u32>(mask + (<usize>(i1 >> 5) << 2), bits);
}

/** dx[i] = dy[i]·m, m = scale where bit i of mask (as dropout wrote it) is set, else 0: the
 *  products of dy with dropout's float mask, bit for bit. */
export function dropoutGrad(tid: i32, nt: i32, dy: usize, mask: usize, dx: usize, n: i32, scale: f32): void {
  const i0 = shareStart(n, tid, nt, 64), i1 = shareStart(n, tid + 1, nt, 64);
  const vs = f32x4.splat(scale), lane = i32x4(1, 2, 4, 8);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const nibble = (load<u32>(mask + (<usize>(i >> 5) << 2)) >> <u32>(i & 31)) & 15;
    const keep = i32x4.ne(v128.and(i32x4.splat(<i32>nibble), lane), i32x4.splat(0));
    const o = <usize>i << 2;
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), v128.and(keep, vs)));
  }
  for (; i < i1; i++) {
    const kept = ((load<u32>(mask + (<usize>(i >> 5) << 2)) >> <u32>(i & 31)) & 1) != 0;
    store<f32>(dx + (<usize>i << 2), load<f32>(dy + (<usize>i << 2)) * (kept ? scale : 0));
  }
}

/** mixTop24 of both lanes; m1, m2 = the splatted multipliers. */
// @ts-ignore: decorator
@inline function mixTop24x2(z: v128, m1: v128, m2: v128): v128 {
  z = i64x2.mul(v128.xor(z, i64x2.shr_u(z, 30)), m1);
  return i64x2.shr_u(i64x2.mul(v128.xor(z, i64x2.shr_u(z, 27)), m2), 40);
}
