// Depthwise 1-D convolution along the sequence axis, one K-tap filter per head shared by the
// head's d features (PyTorch Conv2d(H, H, (K,1), padding=(K//2,0), groups=H, bias=False), weight
// (H,1,K,1) stored as w[H, K]). x, y: [B, H, n, d] contiguous; p = K >> 1; odd K only (output
// length n; the caller rejects even K).
//   forward       y[b,h,i,c]  = Σ_t w[h,t] · x[b,h,i+t−p,c]          (zero outside [0, n))
//   grad input    dx[b,h,j,c] = Σ_t w[h,t] · dy[b,h,j−t+p,c]
//                             = Σ_s w[h,K−1−s] · dy[b,h,j+s−p,c]     (same loop, flipped taps)
//   grad weight   dw[h,t]     = Σ_{b,i,c} dy[b,h,i,c] · x[b,h,i+t−p,c]
// Taps are always summed in increasing t, so results do not depend on the thread split.
import { shareStart } from './partition';
import { hi64, lo64 } from './widen';

const ROWS: i32 = 16; // output rows per work unit

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c); // may fuse
  else return f32x4.add(f32x4.mul(a, b), c);
}

/** out[b,h,i,:] = Σ_t w[h, flip ? K−1−t : t] · src[b,h,i+t−p,:]. Units: (b·H + h, block of ROWS
 *  rows), split evenly over threads. */
function conv(tid: i32, nt: i32, src: usize, w: usize, out: usize, B: i32, H: i32, n: i32, d: i32, K: i32, flip: bool): void {
  const nb = (n + ROWS - 1) / ROWS;
  const units = B * H * nb;
  const u0 = shareStart(units, tid, nt, 1), u1 = shareStart(units, tid + 1, nt, 1);
  const p = K >> 1;
  const pitch = <usize>d << 2; // bytes per sequence row
  for (let u = u0; u < u1; u++) {
    const bh = u / nb;
    const h = bh % H;
    const i0 = (u - bh * nb) * ROWS;
    const i1 = min(n, i0 + ROWS);
    const base = <usize>bh * <usize>n * pitch; // byte offset of [b, h, 0, 0]
    const wh = w + ((<usize>h * <usize>K) << 2);
    for (let i = i0; i < i1; i++) {
      const t0 = max(0, p - i), t1 = min(K, n + p - i); // taps with 0 ≤ i+t−p < n
      const orow = out + base + <usize>i * pitch;
      const srow = src + base + <usize>(i - p) * pitch; // row of tap t is srow + t·pitch
      let c = 0;
      // 8 vectors (32 features) at a time in registers
      for (; c + 32 <= d; c += 32) {
        const co = <usize>c << 2;
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (let t = t0; t < t1; t++) {
          const wv = v128.load32_splat(wh + (<usize>(flip ? K - 1 - t : t) << 2));
          const s = srow + <usize>t * pitch + co;
          a0 = madd(wv, v128.load(s), a0); a1 = madd(wv, v128.load(s, 16), a1);
          a2 = madd(wv, v128.load(s, 32), a2); a3 = madd(wv, v128.load(s, 48), a3);
          a4 = madd(wv, v128.load(s, 64), a4); a5 = madd(wv, v128.load(s, 80), a5);
          a6 = madd(wv, v128.load(s, 96), a6); a7 = madd(wv, v128.load(s, 112), a7);
        }
        const o = orow + co;
        v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
        v128.store(o, a4, 64); v128.store(o, a5, 80); v128.store(o, a6, 96); v128.store(o, a7, 112);
      }
      for (; c + 4 <= d; c += 4) {
        const co = <usize>c << 2;
        let a = f32x4.splat(0);
        for (let t = t0; t < t1; t++) {
          const wv = v128.load32_splat(wh + (<usize>(flip ? K - 1 - t : t) << 2));
          a = madd(wv, v128.load(srow + <usize>t * pitch + co), a);
        }
        v128.store(orow + co, a);
      }
      for (; c < d; c++) {
        const co = <usize>c << 2;
        let a: f32 = 0;
        for (let t = t0; t < t1; t++) {
          a += load<f32>(wh + (<usize>(flip ? K - 1 - t : t) << 2)) * load<f32>(srow + <usize>t * pitch + co);
        }
        store<f32>(orow + co, a);
      }
    }
  }
}

/** y = depthwise conv of x with w (see header). */
export function dwconv(tid: i32, nt: i32, x: usize, w: usize, y: usize, B: i32, H: i32, n: i32, d: i32, K: i32): void {
  conv(tid, nt, x, w, y, B, H, n, d, K, false);
}

/** dx = conv of dy with the flipped filter (odd K: same padding). */
export function dwconvGradInput(tid: i32, nt: i32, dy: usize, w: usize, dx: usize, B: i32, H: i32, n: i32, d: i32, K: i32): void {
  conv(tid, nt, dy, w, dx, B, H, n, d, K, true);
}

/** dw[h,t] = Σ_b ⟨dy[b,h,i0:i1,:], x[b,h,i0+t−p:i1+t−p,:]⟩ with i0 = max(0, p−t),
 *  i1 = min(n, n+p−t): each term is a dot product of two contiguous runs of (i1−i0)·d floats.
 *  Threads split the H·K outputs; dots use f32x4 blocks of 64 with f64 block totals. work: per
 *  thread, workBytes ≥ DWCONV_WORK_BYTES of scratch for the sums of a group of taps. */
export function dwconvGradWeight(tid: i32, nt: i32, dy: usize, x: usize, dw: usize, B: i32, H: i32, n: i32, d: i32, K: i32, work: usize, workBytes: i32): void {
  if (workBytes < DWCONV_WORK_BYTES) unreachable(); // the caller's scratch is too small
  const sums = (work + <usize>tid * <usize>workBytes + 7) & ~<usize>7;
  const o0 = shareStart(H * K, tid, nt, 1), o1 = shareStart(H * K, tid + 1, nt, 1);
  const p = K >> 1;
  for (let o = o0; o < o1;) {
    const h = o / K, t = o - h * K;
    // Up to TAPS taps of one head at once: their runs over dy and x overlap in all but a few rows,
    // so each row is read from memory once for the group (one tap at a time streamed it K times).
    const taps = min(TAPS, min(K - t, o1 - o));
    tapGroupGrad(dy, x, dw + (<usize>o << 2), B, H, n, d, h, t, p, taps, sums);
    o += taps;
  }
}

const TAPS: i32 = 16;
/** Scratch a thread needs: f64 sums per tap of a group, for one b and in total, and alignment
 *  (ops/conv.ts passes this many). */
const DWCONV_WORK_BYTES: i32 = 2 * TAPS * 8 + 8;

/**
 * dw[h, t + j] for j < taps (1 … TAPS): per tap and b, the dot product of its run of dy and x
 * rows in 64-float blocks (f32 within a block, block totals and the tail in f64), added over b.
 * Each tap's sum is formed in the same order whatever group it runs in, so results do not depend
 * on the thread split. sums: f64 scratch, [TAPS] for the current b, then [TAPS] over all b.
 */
function tapGroupGrad(dy: usize, x: usize, out: usize, B: i32, H: i32, n: i32, d: i32, h: i32, t: i32, p: i32, taps: i32, sums: usize): void {
  const pitch = <usize>d << 2;
  const total = sums + <usize>(TAPS << 3);
  for (let j = 0; j < taps; j++) store<f64>(total + (<usize>j << 3), 0);
  for (let b = 0; b < B; b++) {
    const base = (<usize>b * <usize>H + <usize>h) * <usize>n * pitch;
    let blocks = 0;
    for (let j = 0; j < taps; j++) {
      store<f64>(sums + (<usize>j << 3), 0);
      blocks = max(blocks, tapLength(n, d, p, t + j) >> 6);
    }
    for (let q = 0; q < blocks; q++) {
      const off = <usize>q << 8; // 64 floats
      for (let j = 0; j < taps; j++) {
        if (q >= tapLength(n, d, p, t + j) >> 6) continue;
        const at = sums + (<usize>j << 3);
        store<f64>(at, load<f64>(at) + block64(dy + base + tapStart(p, t + j) * pitch + off, x + base + (tapStart(p, t + j) + <usize>(t + j - p)) * pitch + off));
      }
    }
    for (let j = 0; j < taps; j++) {
      const len = tapLength(n, d, p, t + j);
      const a = dy + base + tapStart(p, t + j) * pitch, c = x + base + (tapStart(p, t + j) + <usize>(t + j - p)) * pitch;
      let tail = load<f64>(sums + (<usize>j << 3));
      for (let i = len & ~63; i < len; i++) tail += <f64>load<f32>(a + (<usize>i << 2)) * <f64>load<f32>(c + (<usize>i << 2));
      const at = total + (<usize>j << 3);
      store<f64>(at, load<f64>(at) + tail);
    }
  }
  for (let j = 0; j < taps; j++) store<f32>(out + (<usize>j << 2), <f32>load<f64>(total + (<usize>j << 3)));
}

/** The first dy row tap t reads (rows i with i + t − p inside [0, n)). */
// @ts-ignore: decorator
@inline function tapStart(p: i32, t: i32): usize {
  return <usize>max(0, p - t);
}

/** Floats tap t's run covers: its rows times d (0 if none). */
// @ts-ignore: decorator
@inline function tapLength(n: i32, d: i32, p: i32, t: i32): i32 {
  const i0 = max(0, p - t), i1 = min(n, n + p - t);
  return i1 > i0 ? (i1 - i0) * d : 0;
}

/** Σ a[i]·b[i] over one 64-float block: four f32x4 accumulators, the total in f64. */
// @ts-ignore: decorator
@inline function block64(pa: usize, pb: usize): f64 {
  let s0 = f32x4.mul(v128.load(pa), v128.load(pb));
  let s1 = f32x4.mul(v128.load(pa, 16), v128.load(pb, 16));
  let s2 = f32x4.mul(v128.load(pa, 32), v128.load(pb, 32));
  let s3 = f32x4.mul(v128.load(pa, 48), v128.load(pb, 48));
  for (let j: usize = 64; j < 256; j += 64) {
    s0 = madd(v128.load(pa + j), v128.load(pb + j), s0);
    s1 = madd(v128.load(pa + j, 16), v128.load(pb + j, 16), s1);
    s2 = madd(v128.load(pa + j, 32), v128.load(pb + j, 32), s2);
    s3 = madd(v128.load(pa + j, 48), v128.load(pb + j, 48), s3);
  }
  const s = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
  const w = f64x2.add(lo64(s), hi64(s));
  return f64x2.extract_lane(w, 0) + f64x2.extract_lane(w, 1);
}
