// 8-bit inference (docs/quantization.md): y = x·Wᵀ + bias with W in int8, one scale per output
// channel, and x quantized per row at run time to 7-bit unsigned codes with a zero point.
//   W  : n rows of kPad int8 codes (w = code · wScale[j]; codes in [-127, 127], padding 0)
//   q  : m rows of kPad u8 codes (x ≈ (code − zero[i]) · scale[i]; codes in [0, 127], padding 0)
//   y[i, j] = (scale[i] · wScale[j]) · (Σ_p q[i,p]·W[j,p] − zero[i]·wSum[j]) + bias[j]
// Why 7 bits: relaxed SIMD's i8×i7 dot product (one instruction for 16 products on x86) reads
// its second operand as signed or unsigned at the engine's choice; codes in [0, 127] read the
// same either way, so both builds compute the same integer sums exactly, and the result is
// bit-identical across builds and thread counts.
import { shareStart } from './partition';

/** Row i of x [rows, k] (f32) → q [rows, kPad] (u8 codes) and params[i] = (scale, zero). */
export function quantizeRows(tid: i32, nt: i32, x: usize, q: usize, params: usize, rows: i32, k: i32, kPad: i32): void {
  const r1 = shareStart(rows, tid + 1, nt, 1);
  for (let r = shareStart(rows, tid, nt, 1); r < r1; r++) {
    const xr = x + ((<usize>r * <usize>k) << 2);
    const qr = q + <usize>r * <usize>kPad;
    // The range always holds 0, so that 0 (padding, ReLU zeros) has an exact code.
    let lo = f32x4.splat(0);
    let hi = f32x4.splat(0);
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const v = v128.load(xr + (<usize>p << 2));
      lo = f32x4.min(lo, v);
      hi = f32x4.max(hi, v);
    }
    let mn = min(min(f32x4.extract_lane(lo, 0), f32x4.extract_lane(lo, 1)), min(f32x4.extract_lane(lo, 2), f32x4.extract_lane(lo, 3)));
    let mx = max(max(f32x4.extract_lane(hi, 0), f32x4.extract_lane(hi, 1)), max(f32x4.extract_lane(hi, 2), f32x4.extract_lane(hi, 3)));
    for (; p < k; p++) {
      const v = load<f32>(xr + (<usize>p << 2));
      mn = min(mn, v);
      mx = max(mx, v);
    }
    let scale: f32 = (mx - mn) / 127;
    if (!(scale > 0) || !isFinite(scale)) scale = 1; // all zeros (or not finite: garbage in, codes out)
    const inv: f32 = 1 / scale;
    const zero: f32 = min<f32>(127, max<f32>(0, nearest<f32>(-mn * inv)));
    store<f32>(params + (<usize>r << 3), scale);
    store<f32>(params + (<usize>r << 3) + 4, zero);
    const vinv = f32x4.splat(inv);
    const vzero = i32x4.splat(<i32>zero);
    const vmax = i32x4.splat(127);
    const vmin = i32x4.splat(0);
    p = 0;
    for (; p + 16 <= k; p += 16) {
      const src = xr + (<usize>p << 2);
      const c0 = code4(v128.load(src), vinv, vzero, vmin, vmax);
      const c1 = code4(v128.load(src, 16), vinv, vzero, vmin, vmax);
      const c2 = code4(v128.load(src, 32), vinv, vzero, vmin, vmax);
      const c3 = code4(v128.load(src, 48), vinv, vzero, vmin, vmax);
      v128.store(qr + p, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3)));
    }
    for (; p < k; p++) {
      const c = i32x4.extract_lane(code4(f32x4.splat(load<f32>(xr + (<usize>p << 2))), vinv, vzero, vmin, vmax), 0);
      store<u8>(qr + p, <u8>c); // the vector path's rounding and saturation, one lane
    }
    for (; p < kPad; p++) store<u8>(qr + p, 0);
  }
}

// @inline
function code4(v: v128, inv: v128, zero: v128, lo: v128, hi: v128): v128 {
  const c = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v, inv))), zero);
  return i32x4.min_s(i32x4.max_s(c, lo), hi);
}

/** acc + Σ of the 16 products w[p]·a[p] (w int8, a in [0, 127]) into four i32 lanes. */
// @inline
function dot16(w: v128, a: v128, acc: v128): v128 {
  // Not i32x4.relaxed_dot_i8x16_i7x16_add_s: Node 20's V8 returns twice the dot product.
  // Pair sums fit i16 unsaturated (2·127·127 < 2¹⁵).
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, a), i16x8.splat(1)));
  const lo = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w), i16x8.extend_low_i8x16_u(a));
  const hi = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w), i16x8.extend_high_i8x16_u(a));
  return i32x4.add(acc, i32x4.add(lo, hi));
}

// @inline
function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

// Output columns per block: their weights (COLS · kPad bytes, 48 KiB at k = 768) stay in L2
// while 4-row blocks of codes sweep them.
const COLS: i32 = 256;

/** y [m, n] (f32) from codes q [m, kPad], params [m, 2], W [n, kPad] (int8), wScale/wSum [n], bias [n] or 0. */
export function gemmQ8(tid: i32, nt: i32, q: usize, params: usize, w: usize, wScale: usize, wSum: usize, bias: usize,
  y: usize, m: i32, n: i32, kPad: i32): void {
  const i0 = shareStart(m, tid, nt, 4);
  const i1 = shareStart(m, tid + 1, nt, 4);
  const kp = <usize>kPad;
  for (let j0 = 0; j0 < n; j0 += COLS) {
    const j1 = min(n, j0 + COLS);
    let i = i0;
    for (; i + 4 <= i1; i += 4) {
      const a = q + <usize>i * kp;
      let j = j0;
      for (; j + 2 <= j1; j += 2) {
        const b = w + <usize>j * kp;
        let s00 = i32x4.splat(0), s01 = i32x4.splat(0), s10 = i32x4.splat(0), s11 = i32x4.splat(0);
        let s20 = i32x4.splat(0), s21 = i32x4.splat(0), s30 = i32x4.splat(0), s31 = i32x4.splat(0);
        for (let p: usize = 0; p < kp; p += 16) {
          const w0 = v128.load(b + p);
          const w1 = v128.load(b + kp + p);
          const a0 = v128.load(a + p);
          const a1 = v128.load(a + kp + p);
          const a2 = v128.load(a + 2 * kp + p);
          const a3 = v128.load(a + 3 * kp + p);
          s00 = dot16(w0, a0, s00); s01 = dot16(w1, a0, s01);
          s10 = dot16(w0, a1, s10); s11 = dot16(w1, a1, s11);
          s20 = dot16(w0, a2, s20); s21 = dot16(w1, a2, s21);
          s30 = dot16(w0, a3, s30); s31 = dot16(w1, a3, s31);
        }
        put(y, params, wScale, wSum, bias, n, i, j, hsum(s00)); put(y, params, wScale, wSum, bias, n, i, j + 1, hsum(s01));
        put(y, params, wScale, wSum, bias, n, i + 1, j, hsum(s10)); put(y, params, wScale, wSum, bias, n, i + 1, j + 1, hsum(s11));
        put(y, params, wScale, wSum, bias, n, i + 2, j, hsum(s20)); put(y, params, wScale, wSum, bias, n, i + 2, j + 1, hsum(s21));
        put(y, params, wScale, wSum, bias, n, i + 3, j, hsum(s30)); put(y, params, wScale, wSum, bias, n, i + 3, j + 1, hsum(s31));
      }
      for (; j < j1; j++) {
        for (let r = 0; r < 4; r++) put(y, params, wScale, wSum, bias, n, i + r, j, dot(a + <usize>r * kp, w + <usize>j * kp, kp));
      }
    }
    for (; i < i1; i++) {
      for (let j = j0; j < j1; j++) put(y, params, wScale, wSum, bias, n, i, j, dot(q + <usize>i * kp, w + <usize>j * kp, kp));
    }
  }
}

function dot(a: usize, b: usize, kp: usize): i32 {
  let s = i32x4.splat(0);
  for (let p: usize = 0; p < kp; p += 16) s = dot16(v128.load(b + p), v128.load(a + p), s);
  return hsum(s);
}

// Plain f32 operations in a fixed order (no fused multiply-add), the same in every build.
// @inline
function put(y: usize, params: usize, wScale: usize, wSum: usize, bias: usize, n: i32, i: i32, j: i32, acc: i32): void {
  const scale = load<f32>(params + (<usize>i << 3));
  const zero = <i32>load<f32>(params + (<usize>i << 3) + 4);
  const sj = <usize>j << 2;
  const s: f32 = scale * load<f32>(wScale + sj);
  let v: f32 = s * <f32>(acc - zero * load<i32>(wSum + sj));
  if (bias) v += load<f32>(bias + sj);
  store<f32>(y + ((<usize>i * <usize>n + <usize>j) << 2), v);
}
