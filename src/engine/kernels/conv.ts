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
 *  Threads split the H·K outputs; dots use f32x4 blocks of 64 with f64 block totals. */
export function dwconvGradWeight(tid: i32, nt: i32, dy: usize, x: usize, dw: usize, B: i32, H: i32, n: i32, d: i32, K: i32): void {
  const o0 = shareStart(H * K, tid, nt, 1), o1 = shareStart(H * K, tid + 1, nt, 1);
  const p = K >> 1;
  const pitch = <usize>d << 2;
  for (let o = o0; o < o1; o++) {
    const h = o / K, t = o - h * K;
    const i0 = max(0, p - t), i1 = min(n, n + p - t);
    let acc: f64 = 0;
    if (i1 > i0) {
      for (let b = 0; b < B; b++) {
        const base = (<usize>b * <usize>H + <usize>h) * <usize>n * pitch;
        acc += dotRun(dy + base + <usize>i0 * pitch, x + base + <usize>(i0 + t - p) * pitch, (i1 - i0) * d);
      }
    }
    store<f32>(dw + (<usize>o << 2), <f32>acc);
  }
}

/** Σ a[i]·b[i], i < len: four f32x4 accumulators per 64-float block, block totals in f64. */
function dotRun(a: usize, b: usize, len: i32): f64 {
  let acc: f64 = 0;
  let i = 0;
  for (; i + 64 <= len; i += 64) {
    const pa = a + (<usize>i << 2), pb = b + (<usize>i << 2);
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
    const w = f64x2.add(f64x2.promote_low_f32x4(s), f64x2.promote_low_f32x4(v128.shuffle<f32>(s, s, 2, 3, 0, 1)));
    acc += f64x2.extract_lane(w, 0) + f64x2.extract_lane(w, 1);
  }
  for (; i < len; i++) acc += <f64>load<f32>(a + (<usize>i << 2)) * <f64>load<f32>(b + (<usize>i << 2));
  return acc;
}
