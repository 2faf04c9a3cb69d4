// Elementwise kernels (unary, unary gradients, binary with broadcasting, where, strided copy,
// fill, casts) and the f32x4 math library shared with reduce.ts (exp, log, tanh, erf, Φ).
//
// The f32x4 helpers used by other kernel files (loadPartial, storePartial, expv, logv, tanhv,
// erfv, sigmoidv) are @global rather than exported, so they never become wasm exports (v128
// cannot cross the JS boundary); other files `import './elementwise'` to use them.
//
// Determinism: every element is computed by the same operation sequence whatever the thread
// split: contiguous loops run f32x4 over whole vectors and finish the last n%4 elements through
// a partial vector (loadPartial/storePartial), so the transcendental code is always the vector
// code. IEEE basic ops (+ − × ÷ min max compare) give identical bits in scalar and vector form.
import { shareStart } from './partition';
import {
  BINARY_ADD,
  BINARY_DIV,
  BINARY_EQ,
  BINARY_GE,
  BINARY_GT,
  BINARY_LT,
  BINARY_MAXIMUM,
  BINARY_MINIMUM,
  BINARY_MUL,
  BINARY_POW,
  BINARY_SUB,
  UNARY_ABS,
  UNARY_ADD_SCALAR,
  UNARY_ERF,
  UNARY_EXP,
  UNARY_GELU,
  UNARY_GELU_TANH,
  UNARY_LOG,
  UNARY_MUL_SCALAR,
  UNARY_NEG,
  UNARY_POW_SCALAR,
  UNARY_RECIPROCAL,
  UNARY_RELU,
  UNARY_RSQRT,
  UNARY_SIGMOID,
  UNARY_SQRT,
  UNARY_SQUARE,
  UNARY_STEP,
  UNARY_TANH,
  LOG2E,
  LN2_HI,
  LN2_LO,
  ROUNDER,
  EP0,
  EP1,
  EP2,
  EP3,
  EP4,
  LR0,
  LR1,
  LR2,
  TP0,
  TP1,
  TP2,
  TP3,
  TP4,
  FP0,
  FP1,
  FP2,
  FP3,
  FP4,
  FP5,
  FP6,
  Q0,
  Q1,
  Q2,
  Q3,
  Q4,
  Q5,
  Q6,
  Q7,
  Q8,
  Q9,
  Q10,
  ERF_SPLIT,
  SQRT1_2,
  GELU_C,
  SQRT_2_PI,
  INV_SQRT_2PI,
  TWO_SQRT_PI,
} from './op-codes';

// ---------------------------------------------------------------- f32x4 shorthands
// @ts-ignore: decorator
@inline function sp(x: f32): v128 { return f32x4.splat(x); }
// @ts-ignore: decorator
@inline function add(a: v128, b: v128): v128 { return f32x4.add(a, b); }
// @ts-ignore: decorator
@inline function sub(a: v128, b: v128): v128 { return f32x4.sub(a, b); }
// @ts-ignore: decorator
@inline function mul(a: v128, b: v128): v128 { return f32x4.mul(a, b); }
// @ts-ignore: decorator
@inline function div(a: v128, b: v128): v128 { return f32x4.div(a, b); }
/** a*b + c, always unfused (same bits in both builds). */
// @ts-ignore: decorator
@inline function mad(a: v128, b: v128, c: v128): v128 { return f32x4.add(f32x4.mul(a, b), c); }
/** Lanes of m (all-ones / all-zeros masks) choose a, others b. Moves bits, no arithmetic. */
// @ts-ignore: decorator
@inline function sel(m: v128, a: v128, b: v128): v128 { return v128.bitselect(a, b, m); }

/** Loads r ∈ {1,2,3} floats at p into lanes 0..r-1 (other lanes repeat lane 0). */
// @ts-ignore: decorator
@global function loadPartial(p: usize, r: i32): v128 {
  let v = f32x4.splat(load<f32>(p));
  if (r > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (r > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}
/** Stores lanes 0..r-1 of v at p (r ∈ {1,2,3}). */
// @ts-ignore: decorator
@global function storePartial(p: usize, r: i32, v: v128): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (r > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (r > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// Vector constants of the math functions below, kept in memory: V8 (Node 20) rebuilds a
// v128.const from general registers at every use inside a loop (several instructions each),
// while a load-splat from memory is one. kf(X_K) is the constant X in all four lanes.
const EXP_MIN_K = memory.data<f32>([-104.0]);
const EXP_MAX_K = memory.data<f32>([89.0]);
const LOG2E_K = memory.data<f32>([LOG2E]);
const ROUNDER_K = memory.data<f32>([ROUNDER]);
const LN2_HI_K = memory.data<f32>([LN2_HI]);
const LN2_LO_K = memory.data<f32>([LN2_LO]);
const ONE_K = memory.data<f32>([1.0]);
const ROUNDER_BITS_K = memory.data<i32>([0x4b400000]);
const EXP_BIAS_K = memory.data<i32>([127]);
const TWO_K = memory.data<f32>([2.0]);
const HALF_K = memory.data<f32>([0.5]);
const INF_K = memory.data<f32>([Infinity]);
const MINUS_INF_K = memory.data<f32>([-Infinity]);
const MINUS_TWO_K = memory.data<f32>([-2.0]);
const SIGN_BIT_K = memory.data<i32>([0x80000000]);
const TANH_SPLIT_K = memory.data<f32>([0.55]);
const ERF_SPLIT_K = memory.data<f32>([ERF_SPLIT]);
const SQRT1_2_K = memory.data<f32>([SQRT1_2]);
const GELU_C_K = memory.data<f32>([GELU_C]);
const TWO_SQRT_2_PI_K = memory.data<f32>([2.0 * SQRT_2_PI]);
const MINUS_HALF_K = memory.data<f32>([-0.5]);
const INV_SQRT_2PI_K = memory.data<f32>([INV_SQRT_2PI]);
const THREE_GELU_C_K = memory.data<f32>([3.0 * GELU_C]);
// Polynomial coefficients, c0 first: kc(TABLE, i) is cᵢ in all four lanes.
const EXP_P = memory.data<f32>([EP0, EP1, EP2, EP3, EP4]);
const LOG_R = memory.data<f32>([LR0, LR1, LR2]);
const TANH_P = memory.data<f32>([TP0, TP1, TP2, TP3, TP4]);
const ERF_P = memory.data<f32>([FP0, FP1, FP2, FP3, FP4, FP5, FP6]);
const ERFC_Q = memory.data<f32>([Q0, Q1, Q2, Q3, Q4, Q5, Q6, Q7, Q8, Q9, Q10]);
// @ts-ignore: decorator
@inline function kf(at: usize): v128 { return v128.load32_splat(at); }
// @ts-ignore: decorator
@inline function kc(table: usize, i: i32): v128 { return v128.load32_splat(table + <usize>(i << 2)); }

// ---------------------------------------------------------------- exp
// exp(x) = 2^k · e^r,  k = round(x·log2 e),  r = x − k·ln2 (Cody–Waite: ln2 = HI + LO, HI has 15
// significant bits so k·HI and x − k·HI are exact), e^r = 1 + r + r²·P(r) on |r| ≤ ln2/2 with P a
// degree-4 least-squares-minimax fit (rel. error 3e-9). x is clamped to [−104, 89] first (pmin /
// pmax keep a NaN x), k is rounded by adding 1.5·2^23 (its integer value then sits in the low
// mantissa bits), and 2^k is applied as two normal factors 2^(k>>1)·2^(k−(k>>1)) so that results
// down in the subnormal range and the overflow to +inf come out right:
// exp(−inf) = 0, exp(x ≥ 88.73) = inf, exp(NaN) = NaN.

// @ts-ignore: decorator
@global function expv(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, kf(EXP_MIN_K)), kf(EXP_MAX_K));
  const kr = mad(x, kf(LOG2E_K), kf(ROUNDER_K));
  const k = sub(kr, kf(ROUNDER_K)); // round-to-nearest(x·log2 e), exact
  let r = sub(x, mul(k, kf(LN2_HI_K)));
  r = sub(r, mul(k, kf(LN2_LO_K)));
  let p = mad(r, kc(EXP_P, 4), kc(EXP_P, 3));
  p = mad(r, p, kc(EXP_P, 2));
  p = mad(r, p, kc(EXP_P, 1));
  p = mad(r, p, kc(EXP_P, 0));
  p = add(mad(mul(r, r), p, r), kf(ONE_K));
  const ki = i32x4.sub(kr, kf(ROUNDER_BITS_K)); // integer k from the bits of kr
  const k1 = i32x4.shr_s(ki, 1);
  const k2 = i32x4.sub(ki, k1);
  const s1 = i32x4.shl(i32x4.add(k1, kf(EXP_BIAS_K)), 23); // bits of 2^k1
  const s2 = i32x4.shl(i32x4.add(k2, kf(EXP_BIAS_K)), 23);
  return mul(mul(p, s1), s2);
}

// ---------------------------------------------------------------- log
// x = 2^e · m with m ∈ [√½, √2) (bit trick: subtract the bits of √½, split exponent/mantissa,
// add back), f = m − 1 (exact), s = f/(2+f), log(1+f) = 2 atanh s = 2s + s·R(s²) and, rewritten
// to keep the big terms exact, log(1+f) = f − f²/2 + s·(f²/2 + R), R(z) = z·(2/3 + 2z/5 + ...)
// fitted (3 terms, |s| ≤ 0.1716). log x = e·HI + (that + e·LO). Subnormals are scaled by 2^23
// first. Specials: log(0) = −inf, log(x<0) = NaN, log(inf) = inf, log(NaN) = NaN.

// @ts-ignore: decorator
@global function logv(x: v128): v128 {
  const tiny = f32x4.lt(x, sp(1.17549435e-38));
  const xs = sel(tiny, mul(x, sp(8388608.0)), x);
  const t = i32x4.sub(xs, i32x4.splat(0x3f3504f3));
  const e = i32x4.add(i32x4.shr_s(t, 23), v128.and(tiny, i32x4.splat(-23)));
  const m = i32x4.add(v128.and(t, i32x4.splat(0x007fffff)), i32x4.splat(0x3f3504f3));
  const f = sub(m, kf(ONE_K));
  const s = div(f, add(f, kf(TWO_K)));
  const z = mul(s, s);
  const R = mul(z, mad(z, mad(z, kc(LOG_R, 2), kc(LOG_R, 1)), kc(LOG_R, 0)));
  const hf = mul(mul(f, f), kf(HALF_K));
  const ef = f32x4.convert_i32x4_s(e);
  const lo = mad(ef, kf(LN2_LO_K), mul(s, add(hf, R)));
  let y = mad(ef, kf(LN2_HI_K), add(sub(lo, hf), f));
  y = sel(v128.or(f32x4.ne(x, x), f32x4.eq(x, kf(INF_K))), x, y);
  y = sel(f32x4.lt(x, sp(0.0)), sp(NaN), y);
  return sel(f32x4.eq(x, sp(0.0)), kf(MINUS_INF_K), y);
}

// ---------------------------------------------------------------- tanh
// |x| < 0.55: tanh x = x + x³·P(x²) (degree-4 fit, rel. error 1e-9);
// otherwise tanh|x| = (1 − e)/(1 + e), e = exp(−2|x|) ∈ (0, 1/3], sign copied from x.
// Saturates to ±1 for large |x|; tanh(NaN) = NaN.

// @ts-ignore: decorator
@global function tanhv(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = mul(x, x);
  let p = mad(z, kc(TANH_P, 4), kc(TANH_P, 3));
  p = mad(z, p, kc(TANH_P, 2));
  p = mad(z, p, kc(TANH_P, 1));
  p = mad(z, p, kc(TANH_P, 0));
  const small = mad(mul(x, z), p, x);
  const e = expv(mul(a, kf(MINUS_TWO_K)));
  const big = v128.or(div(sub(kf(ONE_K), e), add(kf(ONE_K), e)), v128.and(x, kf(SIGN_BIT_K)));
  return sel(f32x4.lt(a, kf(TANH_SPLIT_K)), small, big);
}

// ---------------------------------------------------------------- erf, erfc, Φ
// |x| < 0.9: erf x = x + x·P(x²), P ≈ erf(x)/x − 1 (degree-6 fit, rel. error 3e-10; the exact
//   leading x keeps the result within ~1 ulp).
// |x| ≥ 0.9: erfc|x| = t·exp(Q(t) − x²), t = 1/(1 + |x|/2), Q a degree-10 fit of
//   log(erfcx(z)/t) on t ∈ (0, 1/1.45] (abs. error 7e-10, so erfc has ~2e-7 relative error
//   everywhere, down to underflow); erf x = sign(x)·(1 − erfc|x|).

/** erf(x) for |x| < ERF_SPLIT, given z = x². */
// @ts-ignore: decorator
@inline function erfSmall(x: v128, z: v128): v128 {
  let p = mad(z, kc(ERF_P, 6), kc(ERF_P, 5));
  p = mad(z, p, kc(ERF_P, 4));
  p = mad(z, p, kc(ERF_P, 3));
  p = mad(z, p, kc(ERF_P, 2));
  p = mad(z, p, kc(ERF_P, 1));
  p = mad(z, p, kc(ERF_P, 0));
  return mad(x, p, x);
}
/** erfc(a) for a ≥ 0 (accurate for a ≥ ERF_SPLIT), given a2 ≈ a² (passed in so callers can
 *  supply a more accurate square). */
function erfcPos(a: v128, a2: v128): v128 {
  const t = div(kf(ONE_K), mad(a, kf(HALF_K), kf(ONE_K)));
  let q = mad(t, kc(ERFC_Q, 10), kc(ERFC_Q, 9));
  q = mad(t, q, kc(ERFC_Q, 8));
  q = mad(t, q, kc(ERFC_Q, 7));
  q = mad(t, q, kc(ERFC_Q, 6));
  q = mad(t, q, kc(ERFC_Q, 5));
  q = mad(t, q, kc(ERFC_Q, 4));
  q = mad(t, q, kc(ERFC_Q, 3));
  q = mad(t, q, kc(ERFC_Q, 2));
  q = mad(t, q, kc(ERFC_Q, 1));
  q = mad(t, q, kc(ERFC_Q, 0));
  return mul(t, expv(sub(q, a2)));
}

// @ts-ignore: decorator
@global function erfv(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = mul(x, x);
  const small = erfSmall(x, z);
  const big = v128.or(sub(kf(ONE_K), erfcPos(a, z)), v128.and(x, kf(SIGN_BIT_K)));
  return sel(f32x4.lt(a, kf(ERF_SPLIT_K)), small, big);
}

// Φ(x) = ½·erfc(−x/√2), the standard normal CDF. With u = x/√2 and u² taken as ½·x·x (one
// rounding instead of two): |u| < 0.9: Φ = ½ + ½·erf(u); else Φ = ½·erfc|u| for x < 0 and
// 1 − ½·erfc|u| for x > 0 (no cancellation in the left tail, so x·Φ(x) keeps full relative
// accuracy for large negative x).
// Activations mostly lie in the polynomial's range: when all four lanes do, the erfc branch (an
// exp and a division) is skipped; the lanes get the same values either way.
function phiv(x: v128): v128 {
  const u = mul(x, kf(SQRT1_2_K));
  const a = f32x4.abs(u);
  const inSmall = f32x4.lt(a, kf(ERF_SPLIT_K));
  const small = mad(erfSmall(u, mul(u, u)), kf(HALF_K), kf(HALF_K));
  if (i32x4.all_true(inSmall)) return small;
  const h = mul(erfcPos(a, mul(mul(x, x), kf(HALF_K))), kf(HALF_K));
  const big = sel(f32x4.lt(x, sp(0.0)), h, sub(kf(ONE_K), h));
  return sel(inSmall, small, big);
}

// ---------------------------------------------------------------- sigmoid, GELU
// σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0, e = exp(−|x|) (no overflow, keeps relative
// accuracy in the left tail).
// @ts-ignore: decorator
@global function sigmoidv(x: v128): v128 {
  const e = expv(f32x4.neg(f32x4.abs(x)));
  const s = div(kf(ONE_K), add(kf(ONE_K), e));
  return sel(f32x4.ge(x, sp(0.0)), s, mul(e, s));
}
// GELU (erf form) = x·Φ(x); GELU (tanh form) = ½x(1 + tanh g) = x·σ(2g),
// g = √(2/π)·(x + 0.044715x³). Both return the limit 0 at x = −inf (not −inf·0 = NaN).
function geluv(x: v128): v128 {
  return geluOf(x, phiv(x));
}
// @ts-ignore: decorator
@inline function geluOf(x: v128, phi: v128): v128 {
  return sel(f32x4.eq(x, kf(MINUS_INF_K)), sp(0.0), mul(x, phi));
}
function geluTanhArg2(x: v128): v128 { // 2g
  return mul(mad(mul(mul(x, x), x), kf(GELU_C_K), x), kf(TWO_SQRT_2_PI_K));
}
function geluTanhv(x: v128): v128 {
  return sel(f32x4.eq(x, sp(-Infinity)), sp(0.0), mul(x, sigmoidv(geluTanhArg2(x))));
}

// ---------------------------------------------------------------- pow (scalar)
/** x^a with JavaScript Math.pow semantics (negative x with integer a, ±0, ±inf), evaluated in
 *  f64 and rounded once to f32 (effectively correctly rounded). */
function powf(x: f32, a: f32): f32 {
  // common exponents in f64 (rounded once to f32), with Math.pow's results at ±0 and ±inf
  const xd = <f64>x;
  if (a == 2) return x * x;
  if (a == 1) return x;
  if (a == 3) return <f32>(xd * xd * xd);
  if (a == 4) { const s = xd * xd; return <f32>(s * s); }
  if (a == -1) return 1 / x;
  if (a == -2) return <f32>(1 / (xd * xd));
  if (a == 0.5) return x == -Infinity ? Infinity : <f32>(Math.sqrt(xd) + 0); // +0 for −0
  if (a == -0.5) return x == -Infinity ? 0 : <f32>(1 / (Math.sqrt(xd) + 0));
  if (isNaN<f32>(a)) return NaN; // JS: pow(1, NaN) = NaN (C says 1)
  if (Mathf.abs(x) == 1 && !isFinite<f32>(a)) return NaN; // JS: pow(±1, ±inf) = NaN
  return <f32>Math.pow(xd, <f64>a);
}
function powv(v: v128, a: f32): v128 {
  let r = f32x4.splat(powf(f32x4.extract_lane(v, 0), a));
  r = f32x4.replace_lane(r, 1, powf(f32x4.extract_lane(v, 1), a));
  r = f32x4.replace_lane(r, 2, powf(f32x4.extract_lane(v, 2), a));
  return f32x4.replace_lane(r, 3, powf(f32x4.extract_lane(v, 3), a));
}
function powvv(v: v128, w: v128): v128 {
  let r = f32x4.splat(powf(f32x4.extract_lane(v, 0), f32x4.extract_lane(w, 0)));
  r = f32x4.replace_lane(r, 1, powf(f32x4.extract_lane(v, 1), f32x4.extract_lane(w, 1)));
  r = f32x4.replace_lane(r, 2, powf(f32x4.extract_lane(v, 2), f32x4.extract_lane(w, 2)));
  return f32x4.replace_lane(r, 3, powf(f32x4.extract_lane(v, 3), f32x4.extract_lane(w, 3)));
}

// ---------------------------------------------------------------- unary
/** Unary ops (codes in op-codes.ts): gelu is the erf form, x+α / x·α / x^α the scalar ones, step x>0. */
// @ts-ignore: decorator
@inline function uop(op: i32, x: v128, alpha: f32): v128 {
  switch (op) {
    case UNARY_NEG: return f32x4.neg(x);
    case UNARY_EXP: return expv(x);
    case UNARY_LOG: return logv(x);
    case UNARY_SQRT: return f32x4.sqrt(x);
    case UNARY_RSQRT: return div(sp(1.0), f32x4.sqrt(x));
    case UNARY_TANH: return tanhv(x);
    case UNARY_RELU: return f32x4.max(x, sp(0.0)); // relu(NaN) = NaN
    case UNARY_GELU: return geluv(x);
    case UNARY_GELU_TANH: return geluTanhv(x);
    case UNARY_SIGMOID: return sigmoidv(x);
    case UNARY_ADD_SCALAR: return add(x, sp(alpha));
    case UNARY_MUL_SCALAR: return mul(x, sp(alpha));
    case UNARY_POW_SCALAR: return powv(x, alpha);
    case UNARY_ABS: return f32x4.abs(x);
    case UNARY_SQUARE: return mul(x, x);
    case UNARY_ERF: return erfv(x);
    case UNARY_RECIPROCAL: return div(sp(1.0), x);
    case UNARY_STEP: return v128.and(f32x4.gt(x, sp(0.0)), sp(1.0));
    default: return sp(NaN);
  }
}

/** y[i] = f(x[i]) for i in [s, e) (x may equal y). */
// @ts-ignore: decorator
@inline function unaryRange(op: i32, x: usize, y: usize, s: i32, e: i32, alpha: f32): void {
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, uop(op, v128.load(x + o), alpha));
  }
  if (i < e) storePartial(y + (<usize>i << 2), e - i, uop(op, loadPartial(x + (<usize>i << 2), e - i), alpha));
}

/** y = f(x), contiguous, n elements. */
export function unary(tid: i32, nt: i32, op: i32, x: usize, y: usize, n: i32, alpha: f32): void {
  const s = shareStart(n, tid, nt, 64);
  const e = shareStart(n, tid + 1, nt, 64);
  if (s >= e) return;
  // One specialised loop per op (the constant op folds the switch in uop away).
  switch (op) {
    case UNARY_NEG: unaryRange(UNARY_NEG, x, y, s, e, alpha); break;
    case UNARY_EXP: unaryRange(UNARY_EXP, x, y, s, e, alpha); break;
    case UNARY_LOG: unaryRange(UNARY_LOG, x, y, s, e, alpha); break;
    case UNARY_SQRT: unaryRange(UNARY_SQRT, x, y, s, e, alpha); break;
    case UNARY_RSQRT: unaryRange(UNARY_RSQRT, x, y, s, e, alpha); break;
    case UNARY_TANH: unaryRange(UNARY_TANH, x, y, s, e, alpha); break;
    case UNARY_RELU: unaryRange(UNARY_RELU, x, y, s, e, alpha); break;
    case UNARY_GELU: unaryRange(UNARY_GELU, x, y, s, e, alpha); break;
    case UNARY_GELU_TANH: unaryRange(UNARY_GELU_TANH, x, y, s, e, alpha); break;
    case UNARY_SIGMOID: unaryRange(UNARY_SIGMOID, x, y, s, e, alpha); break;
    case UNARY_ADD_SCALAR: unaryRange(UNARY_ADD_SCALAR, x, y, s, e, alpha); break;
    case UNARY_MUL_SCALAR: unaryRange(UNARY_MUL_SCALAR, x, y, s, e, alpha); break;
    case UNARY_POW_SCALAR: unaryRange(UNARY_POW_SCALAR, x, y, s, e, alpha); break;
    case UNARY_ABS: unaryRange(UNARY_ABS, x, y, s, e, alpha); break;
    case UNARY_SQUARE: unaryRange(UNARY_SQUARE, x, y, s, e, alpha); break;
    case UNARY_ERF: unaryRange(UNARY_ERF, x, y, s, e, alpha); break;
    case UNARY_RECIPROCAL: unaryRange(UNARY_RECIPROCAL, x, y, s, e, alpha); break;
    case UNARY_STEP: unaryRange(UNARY_STEP, x, y, s, e, alpha); break;
    default: unaryRange(-1, x, y, s, e, alpha);
  }
}

// ---------------------------------------------------------------- unary gradients
// dx = dy·f′(x), using y = f(x) where that is cheaper or more accurate (the only place the derivative
// formulas live; which ops have one: UNARY_GRADIENT in src/engine/backend/op-codes.ts):
//   neg −dy · exp dy·y · log dy/x · sqrt dy/(2y) · rsqrt −½dy·y³ · tanh dy(1−y²) ·
//   relu dy·[x>0] · gelu dy(Φ(x) + xφ(x)) · gelu_tanh dy(s + x·s(1−s)·2√(2/π)(1+3·0.044715x²)),
//   s = σ(2g) · sigmoid dy·y(1−y) · x+α dy · x·α dy·α · x^α dy·α·x^(α−1) (0 when α = 0) ·
//   abs dy·sign(x) (0 at 0) · x² 2x·dy · erf dy·(2/√π)e^(−x²) · 1/x −dy·y² · step 0.
function geluGradv(x: v128): v128 {
  return geluGradOf(x, phiv(x));
}
// @ts-ignore: decorator
@inline function geluGradOf(x: v128, phi: v128): v128 {
  const d = mad(mul(x, expv(mul(mul(x, x), kf(MINUS_HALF_K)))), kf(INV_SQRT_2PI_K), phi);
  return sel(f32x4.eq(f32x4.abs(x), kf(INF_K)), phi, d); // limits at ±inf: 0 and 1
}
function geluTanhGradv(x: v128): v128 {
  const s = sigmoidv(geluTanhArg2(x));
  const dg = mul(mad(mul(x, x), kf(THREE_GELU_C_K), kf(ONE_K)), kf(TWO_SQRT_2_PI_K)); // d(2g)/dx
  const d = mad(mul(mul(x, s), sub(kf(ONE_K), s)), dg, s);
  return sel(f32x4.eq(f32x4.abs(x), kf(INF_K)), s, d);
}
// @ts-ignore: decorator
@inline function ugrad(op: i32, x: v128, y: v128, dy: v128, alpha: f32): v128 {
  switch (op) {
    case UNARY_NEG: return f32x4.neg(dy);
    case UNARY_EXP: return mul(dy, y);
    case UNARY_LOG: return div(dy, x);
    case UNARY_SQRT: return div(mul(dy, sp(0.5)), y);
    case UNARY_RSQRT: return mul(mul(dy, sp(-0.5)), mul(mul(y, y), y));
    case UNARY_TANH: return mul(dy, sub(sp(1.0), mul(y, y)));
    case UNARY_RELU: return v128.and(f32x4.gt(x, sp(0.0)), dy);
    case UNARY_GELU: return mul(dy, geluGradv(x));
    case UNARY_GELU_TANH: return mul(dy, geluTanhGradv(x));
    case UNARY_SIGMOID: return mul(mul(dy, y), sub(sp(1.0), y));
    case UNARY_ADD_SCALAR: return dy;
    case UNARY_MUL_SCALAR: return mul(dy, sp(alpha));
    case UNARY_POW_SCALAR: return alpha == 0 ? sp(0.0) : mul(mul(dy, sp(alpha)), powv(x, alpha - 1));
    case UNARY_ABS: {
      const g = sel(f32x4.gt(x, sp(0.0)), dy, f32x4.neg(dy));
      return v128.and(f32x4.ne(x, sp(0.0)), g);
    }
    case UNARY_SQUARE: return mul(dy, add(x, x));
    case UNARY_ERF: return mul(mul(dy, sp(TWO_SQRT_PI)), expv(f32x4.neg(mul(x, x))));
    case UNARY_RECIPROCAL: return f32x4.neg(mul(dy, mul(y, y)));
    case UNARY_STEP: return sp(0.0);
    default: return sp(NaN);
  }
}
/** Whether ugrad reads y (the others skip its load: a third of the kernel's memory traffic). */
// @ts-ignore: decorator
@inline function readsY(op: i32): bool {
  return op == UNARY_EXP || op == UNARY_SQRT || op == UNARY_RSQRT || op == UNARY_TANH || op == UNARY_SIGMOID || op == UNARY_RECIPROCAL;
}
// @ts-ignore: decorator
@inline function unaryGradRange(op: i32, x: usize, y: usize, dy: usize, dx: usize, s: i32, e: i32, alpha: f32): void {
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, ugrad(op, v128.load(x + o), readsY(op) ? v128.load(y + o) : sp(0.0), v128.load(dy + o), alpha));
  }
  if (i < e) {
    const o = <usize>i << 2;
    const r = e - i;
    storePartial(dx + o, r, ugrad(op, loadPartial(x + o, r), readsY(op) ? loadPartial(y + o, r) : sp(0.0), loadPartial(dy + o, r), alpha));
  }
}

/** dx = dy·f'(x), contiguous; y = f(x) as computed by `unary` with the same op and alpha. */
export function unaryGrad(tid: i32, nt: i32, op: i32, x: usize, y: usize, dy: usize, dx: usize, n: i32, alpha: f32): void {
  const s = shareStart(n, tid, nt, 64);
  const e = shareStart(n, tid + 1, nt, 64);
  if (s >= e) return;
  switch (op) {
    case UNARY_NEG: unaryGradRange(UNARY_NEG, x, y, dy, dx, s, e, alpha); break;
    case UNARY_EXP: unaryGradRange(UNARY_EXP, x, y, dy, dx, s, e, alpha); break;
    case UNARY_LOG: unaryGradRange(UNARY_LOG, x, y, dy, dx, s, e, alpha); break;
    case UNARY_SQRT: unaryGradRange(UNARY_SQRT, x, y, dy, dx, s, e, alpha); break;
    case UNARY_RSQRT: unaryGradRange(UNARY_RSQRT, x, y, dy, dx, s, e, alpha); break;
    case UNARY_TANH: unaryGradRange(UNARY_TANH, x, y, dy, dx, s, e, alpha); break;
    case UNARY_RELU: unaryGradRange(UNARY_RELU, x, y, dy, dx, s, e, alpha); break;
    case UNARY_GELU: unaryGradRange(UNARY_GELU, x, y, dy, dx, s, e, alpha); break;
    case UNARY_GELU_TANH: unaryGradRange(UNARY_GELU_TANH, x, y, dy, dx, s, e, alpha); break;
    case UNARY_SIGMOID: unaryGradRange(UNARY_SIGMOID, x, y, dy, dx, s, e, alpha); break;
    case UNARY_ADD_SCALAR: unaryGradRange(UNARY_ADD_SCALAR, x, y, dy, dx, s, e, alpha); break;
    case UNARY_MUL_SCALAR: unaryGradRange(UNARY_MUL_SCALAR, x, y, dy, dx, s, e, alpha); break;
    case UNARY_POW_SCALAR: unaryGradRange(UNARY_POW_SCALAR, x, y, dy, dx, s, e, alpha); break;
    case UNARY_ABS: unaryGradRange(UNARY_ABS, x, y, dy, dx, s, e, alpha); break;
    case UNARY_SQUARE: unaryGradRange(UNARY_SQUARE, x, y, dy, dx, s, e, alpha); break;
    case UNARY_ERF: unaryGradRange(UNARY_ERF, x, y, dy, dx, s, e, alpha); break;
    case UNARY_RECIPROCAL: unaryGradRange(UNARY_RECIPROCAL, x, y, dy, dx, s, e, alpha); break;
    case UNARY_STEP: unaryGradRange(UNARY_STEP, x, y, dy, dx, s, e, alpha); break;
    default: unaryGradRange(-1, x, y, dy, dx, s, e, alpha);
  }
}

// ---------------------------------------------------------------- GELU with its derivative
/**
 * y = GELU(x) and d = GELU′(x) from one Φ(x) per element, for training: the backward is then dy·d,
 * with the bits of unary and unaryGrad (the same operations), and without a second Φ.
 */
export function geluWithGrad(tid: i32, nt: i32, x: usize, y: usize, d: usize, n: i32): void {
  const s = shareStart(n, tid, nt, 64);
  const e = shareStart(n, tid + 1, nt, 64);
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o), phi = phiv(v);
    v128.store(y + o, geluOf(v, phi));
    v128.store(d + o, geluGradOf(v, phi));
  }
  if (i < e) {
    const o = <usize>i << 2;
    const v = loadPartial(x + o, e - i), phi = phiv(v);
    storePartial(y + o, e - i, geluOf(v, phi));
    storePartial(d + o, e - i, geluGradOf(v, phi));
  }
}

// ---------------------------------------------------------------- strided iteration
// Descriptor: i32s [rank, shape[rank], strides_0[rank], strides_1[rank], ...] (strides in
// elements, 0 = broadcast). The output is contiguous in row-major order of shape. Kernels walk
// their flat output range row by row (a row = the last dimension); o0..o2 hold the element
// offsets of the current row's first element in inputs 0..2. (Module globals are per instance,
// i.e. per thread, in the worker pool.)
let o0: i32 = 0;
let o1: i32 = 0;
let o2: i32 = 0;

// @ts-ignore: decorator
@inline function dShape(desc: usize, d: i32): i32 { return load<i32>(desc + 4 + (<usize>d << 2)); }
// @ts-ignore: decorator
@inline function dStride(desc: usize, rank: i32, j: i32, d: i32): i32 {
  return load<i32>(desc + 4 + (<usize>((1 + j) * rank + d) << 2));
}
/** Size of the last dimension (1 for rank 0). */
// @ts-ignore: decorator
@inline function dInner(desc: usize, rank: i32): i32 { return rank > 0 ? dShape(desc, rank - 1) : 1; }
/** Stride of input j along the last dimension (0 for rank 0). */
// @ts-ignore: decorator
@inline function dInnerStride(desc: usize, rank: i32, j: i32): i32 { return rank > 0 ? dStride(desc, rank, j, rank - 1) : 0; }

/** o_j = offset of outer row r (multi-index of r over dims 0..rank-2, last varying fastest). */
// @ts-ignore: decorator
@inline function seekRow(desc: usize, rank: i32, nin: i32, r: i32): void {
  o0 = 0; o1 = 0; o2 = 0;
  for (let d = rank - 2; d >= 0; d--) {
    const sh = dShape(desc, d);
    const q = r / sh;
    const id = r - q * sh;
    r = q;
    o0 += id * dStride(desc, rank, 0, d);
    if (nin > 1) o1 += id * dStride(desc, rank, 1, d);
    if (nin > 2) o2 += id * dStride(desc, rank, 2, d);
  }
}
/** Steps o_j from outer row rNext−1 to rNext: odometer increment, dimension d wraps when rNext is a
 *  multiple of shape[d]·…·shape[rank−2]. */
// @ts-ignore: decorator
@inline function nextRow(desc: usize, rank: i32, nin: i32, rNext: i32): void {
  let P = 1;
  for (let d = rank - 2; d >= 0; d--) {
    const sh = dShape(desc, d);
    P *= sh;
    const s0 = dStride(desc, rank, 0, d);
    o0 += s0;
    const s1 = nin > 1 ? dStride(desc, rank, 1, d) : 0;
    o1 += s1;
    const s2 = nin > 2 ? dStride(desc, rank, 2, d) : 0;
    o2 += s2;
    if (rNext % P != 0) return;
    o0 -= sh * s0; o1 -= sh * s1; o2 -= sh * s2;
  }
}
// @ts-ignore: decorator
@inline function at(p: usize, off: i32): usize { return p + (<usize>off << 2); }

// ---------------------------------------------------------------- binary
/** Binary ops (codes in op-codes.ts): max and min propagate NaN, comparisons give 1/0, pow has
 *  Math.pow semantics. */
// @ts-ignore: decorator
@inline function bop(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case BINARY_ADD: return add(a, b);
    case BINARY_SUB: return sub(a, b);
    case BINARY_MUL: return mul(a, b);
    case BINARY_DIV: return div(a, b);
    case BINARY_MAXIMUM: return f32x4.max(a, b);
    case BINARY_MINIMUM: return f32x4.min(a, b);
    case BINARY_EQ: return v128.and(f32x4.eq(a, b), sp(1.0));
    case BINARY_GT: return v128.and(f32x4.gt(a, b), sp(1.0));
    case BINARY_GE: return v128.and(f32x4.ge(a, b), sp(1.0));
    case BINARY_LT: return v128.and(f32x4.lt(a, b), sp(1.0));
    case BINARY_POW: return powvv(a, b);
    default: return sp(NaN);
  }
}
// @ts-ignore: decorator
@inline function bops(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case BINARY_ADD: return a + b;
    case BINARY_SUB: return a - b;
    case BINARY_MUL: return a * b;
    case BINARY_DIV: return a / b;
    case BINARY_MAXIMUM: return max<f32>(a, b);
    case BINARY_MINIMUM: return min<f32>(a, b);
    case BINARY_EQ: return a == b ? 1 : 0;
    case BINARY_GT: return a > b ? 1 : 0;
    case BINARY_GE: return a >= b ? 1 : 0;
    case BINARY_LT: return a < b ? 1 : 0;
    case BINARY_POW: return powf(a, b);
    default: return NaN;
  }
}

/** An input's vector at byte offset o: loaded (a run of elements) or its one value repeated (splat). */
// @ts-ignore: decorator
@inline function operand(p: usize, run: bool, splat: v128, o: usize): v128 {
  return run ? v128.load(p + o) : splat;
}

/** out[i..end) = a op b in whole vectors (a partial last one is left), each input a run (stride 1)
 *  or one repeated value; returns the index after the last whole vector. Blocks of eight vectors
 *  issue their loads before their stores: interleaved, a load waits on the stores before it whose
 *  addresses the CPU cannot yet tell apart, and the short rows of a strided view ran 2–3× slower. */
// @ts-ignore: decorator
@inline function binaryVectors(op: i32, a: usize, aRun: bool, b: usize, bRun: bool, out: usize, i: i32, end: i32): i32 {
  const va = aRun ? sp(0) : v128.load32_splat(a), vb = bRun ? sp(0) : v128.load32_splat(b);
  for (; i + 32 <= end; i += 32) {
    const o = <usize>i << 2;
    const a0 = operand(a, aRun, va, o), a1 = operand(a, aRun, va, o + 16), a2 = operand(a, aRun, va, o + 32);
    const a3 = operand(a, aRun, va, o + 48), a4 = operand(a, aRun, va, o + 64), a5 = operand(a, aRun, va, o + 80);
    const a6 = operand(a, aRun, va, o + 96), a7 = operand(a, aRun, va, o + 112);
    const b0 = operand(b, bRun, vb, o), b1 = operand(b, bRun, vb, o + 16), b2 = operand(b, bRun, vb, o + 32);
    const b3 = operand(b, bRun, vb, o + 48), b4 = operand(b, bRun, vb, o + 64), b5 = operand(b, bRun, vb, o + 80);
    const b6 = operand(b, bRun, vb, o + 96), b7 = operand(b, bRun, vb, o + 112);
    v128.store(out + o, bop(op, a0, b0)); v128.store(out + o, bop(op, a1, b1), 16);
    v128.store(out + o, bop(op, a2, b2), 32); v128.store(out + o, bop(op, a3, b3), 48);
    v128.store(out + o, bop(op, a4, b4), 64); v128.store(out + o, bop(op, a5, b5), 80);
    v128.store(out + o, bop(op, a6, b6), 96); v128.store(out + o, bop(op, a7, b7), 112);
  }
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, bop(op, operand(a, aRun, va, o), operand(b, bRun, vb, o)));
  }
  return i;
}

/** out[0..len) = a[i·sa] op b[i·sb]: f32x4 when the inner strides are (1,1), (1,0) or (0,1). */
// @ts-ignore: decorator
@inline function binaryRow(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, len: i32): void {
  let i = 0;
  if (sa == 1 && sb == 1) i = binaryVectors(op, a, true, b, true, out, 0, len);
  else if (sa == 1 && sb == 0) i = binaryVectors(op, a, true, b, false, out, 0, len);
  else if (sa == 0 && sb == 1) i = binaryVectors(op, a, false, b, true, out, 0, len);
  for (; i < len; i++) {
    store<f32>(out + (<usize>i << 2), bops(op, load<f32>(at(a, i * sa)), load<f32>(at(b, i * sb))));
  }
}

// @ts-ignore: decorator
@inline function binaryRange(op: i32, a: usize, b: usize, out: usize, s: i32, e: i32, desc: usize): void {
  if (desc == 0) {
    const i = binaryVectors(op, a, true, b, true, out, s, e);
    if (i < e) {
      const o = <usize>i << 2;
      storePartial(out + o, e - i, bop(op, loadPartial(a + o, e - i), loadPartial(b + o, e - i)));
    }
    return;
  }
  const rank = load<i32>(desc);
  const L = dInner(desc, rank);
  const sa = dInnerStride(desc, rank, 0);
  const sb = dInnerStride(desc, rank, 1);
  let r = s / L;
  let c = s - r * L;
  seekRow(desc, rank, 2, r);
  let i = s;
  while (i < e) {
    const len = min(L - c, e - i);
    binaryRow(op, at(a, o0 + c * sa), sa, at(b, o1 + c * sb), sb, at(out, i), len);
    i += len;
    c = 0;
    if (i < e) nextRow(desc, rank, 2, ++r);
  }
}

/** out = a op b; desc == 0: all contiguous with n elements, else desc has strides for a and b. */
export function binary(tid: i32, nt: i32, op: i32, a: usize, b: usize, out: usize, n: i32, desc: usize): void {
  const s = shareStart(n, tid, nt, 64);
  const e = shareStart(n, tid + 1, nt, 64);
  if (s >= e) return;
  switch (op) {
    case BINARY_ADD: binaryRange(BINARY_ADD, a, b, out, s, e, desc); break;
    case BINARY_SUB: binaryRange(BINARY_SUB, a, b, out, s, e, desc); break;
    case BINARY_MUL: binaryRange(BINARY_MUL, a, b, out, s, e, desc); break;
    case BINARY_DIV: binaryRange(BINARY_DIV, a, b, out, s, e, desc); break;
    case BINARY_MAXIMUM: binaryRange(BINARY_MAXIMUM, a, b, out, s, e, desc); break;
    case BINARY_MINIMUM: binaryRange(BINARY_MINIMUM, a, b, out, s, e, desc); break;
    case BINARY_EQ: binaryRange(BINARY_EQ, a, b, out, s, e, desc); break;
    case BINARY_GT: binaryRange(BINARY_GT, a, b, out, s, e, desc); break;
    case BINARY_GE: binaryRange(BINARY_GE, a, b, out, s, e, desc); break;
    case BINARY_LT: binaryRange(BINARY_LT, a, b, out, s, e, desc); break;
    case BINARY_POW: binaryRange(BINARY_POW, a, b, out, s, e, desc); break;
    default: binaryRange(-1, a, b, out, s, e, desc);
  }
}

// ---------------------------------------------------------------- where
/** out = cond ≠ 0 ? a : b (bit moves only: inf/NaN of the chosen side pass through; a NaN cond
 *  counts as true). desc == 0: contiguous, else strides for cond, a, b. */
export function where(tid: i32, nt: i32, cond: usize, a: usize, b: usize, out: usize, n: i32, desc: usize): void {
  const s = shareStart(n, tid, nt, 64);
  const e = shareStart(n, tid + 1, nt, 64);
  if (s >= e) return;
  if (desc == 0) {
    let i = s;
    for (; i + 4 <= e; i += 4) {
      const o = <usize>i << 2;
      const m = f32x4.ne(v128.load(cond + o), sp(0.0));
      v128.store(out + o, sel(m, v128.load(a + o), v128.load(b + o)));
    }
    for (; i < e; i++) {
      const o = <usize>i << 2;
      store<i32>(out + o, load<f32>(cond + o) != 0 ? load<i32>(a + o) : load<i32>(b + o));
    }
    return;
  }
  const rank = load<i32>(desc);
  const L = dInner(desc, rank);
  const sc = dInnerStride(desc, rank, 0);
  const sa = dInnerStride(desc, rank, 1);
  const sb = dInnerStride(desc, rank, 2);
  let r = s / L;
  let c = s - r * L;
  seekRow(desc, rank, 3, r);
  let i = s;
  while (i < e) {
    const len = min(L - c, e - i);
    const pc = at(cond, o0 + c * sc), pa = at(a, o1 + c * sa), pb = at(b, o2 + c * sb), po = at(out, i);
    let j = 0;
    if (sc == 1 && sa == 1 && sb == 1) {
      for (; j + 4 <= len; j += 4) {
        const o = <usize>j << 2;
        v128.store(po + o, sel(f32x4.ne(v128.load(pc + o), sp(0.0)), v128.load(pa + o), v128.load(pb + o)));
      }
    }
    for (; j < len; j++) {
      store<i32>(po + (<usize>j << 2), load<f32>(at(pc, j * sc)) != 0 ? load<i32>(at(pa, j * sa)) : load<i32>(at(pb, j * sb)));
    }
    i += len;
    c = 0;
    if (i < e) nextRow(desc, rank, 3, ++r);
  }
}

// ---------------------------------------------------------------- copy, fill, casts
/** y (contiguous, n elements) = x read through desc (1 stride array; desc == 0: x contiguous).
 *  Moves 4-byte words (f32 or i32). */
export function copyStrided(tid: i32, nt: i32, x: usize, y: usize, n: i32, desc: usize): void {
  const s = shareStart(n, tid, nt, 64);
  const e = shareStart(n, tid + 1, nt, 64);
  if (s >= e) return;
  if (desc == 0) {
    memory.copy(at(y, s), at(x, s), <usize>(e - s) << 2);
    return;
  }
  const rank = load<i32>(desc);
  const L = dInner(desc, rank);
  const sx = dInnerStride(desc, rank, 0);
  let r = s / L;
  let c = s - r * L;
  seekRow(desc, rank, 1, r);
  let i = s;
  while (i < e) {
    const len = min(L - c, e - i);
    const px = at(x, o0 + c * sx), py = at(y, i);
    if (sx == 1) memory.copy(py, px, <usize>len << 2);
    else for (let j = 0; j < len; j++) store<i32>(py + (<usize>j << 2), load<i32>(at(px, j * sx)));
    i += len;
    c = 0;
    if (i < e) nextRow(desc, rank, 1, ++r);
  }
}

/** y[0..n) = value. */
export function fill(tid: i32, nt: i32, y: usize, n: i32, value: f32): void {
  const s = shareStart(n, tid, nt, 64);
  const e = shareStart(n, tid + 1, nt, 64);
  const v = sp(value);
  let i = s;
  for (; i + 4 <= e; i += 4) v128.store(y + (<usize>i << 2), v);
  for (; i < e; i++) store<f32>(y + (<usize>i << 2), value);
}

/** y (f32) = x (i32), rounded to nearest. */
export function castI32F32(tid: i32, nt: i32, x: usize, y: usize, n: i32): void {
  const s = shareStart(n, tid, nt, 64);
  const e = shareStart(n, tid + 1, nt, 64);
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.convert_i32x4_s(v128.load(x + o)));
  }
  for (; i < e; i++) store<f32>(y + (<usize>i << 2), <f32>load<i32>(x + (<usize>i << 2)));
}

/** y (i32) = x (f32) truncated toward zero, saturating (NaN → 0, ±inf → i32 min/max). */
export function castF32I32(tid: i32, nt: i32, x: usize, y: usize, n: i32): void {
  const s = shareStart(n, tid, nt, 64);
  const e = shareStart(n, tid + 1, nt, 64);
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, i32x4.trunc_sat_f32x4_s(v128.load(x + o)));
  }
  for (; i < e; i++) {
    const o = <usize>i << 2;
    store<i32>(y + o, i32x4.extract_lane(i32x4.trunc_sat_f32x4_s(v128.load32_splat(x + o)), 0));
  }
}
