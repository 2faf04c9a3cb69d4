/**
 * Elementwise kernels in WGSL: unary and its gradient, binary with broadcasting, where, strided
 * copies, fill and the int32/float32 casts. The WebAssembly kernels (src/engine/kernels/
 * elementwise.ts, layout.ts) define the semantics; this file follows them op for op.
 *
 * One invocation per output element; one shader per kernel, switching on the op code (a uniform,
 * so every invocation takes the same branch), compiled once per pattern of buffers that share an
 * allocation (see `kernel` below).
 *
 * The math library (exp, log, tanh, erf, Φ, sigmoid, pow) is the WebAssembly one written out in
 * scalar WGSL, from +, −, ×, ÷, sqrt and bit casts only: WGSL's own exp/log/tanh have loose
 * accuracy bounds (tanh may come from sinh/cosh and overflow) and WGSL has no erf. NaN and ±inf
 * are detected from the bits, not by comparisons, since WGSL lets an implementation assume they
 * do not occur; and no constant expression may be inf or NaN, so those come from `fromBits`.
 */
import { BINARY_OPS as B, MATH_F32, UNARY_OPS as U } from '../../op-codes.js';
import { shader, type RunShader } from '../shader.js';
import type { GpuKernelTable } from './table.js';

const WG = 128;
const groups = (n: number) => Math.ceil(n / WG);

// ---------------------------------------------------------------- scalar math (WGSL)
const MATH = /* wgsl */ `
${Object.entries(MATH_F32).map(([name, value]) => `const ${name}: f32 = ${value};`).join('\n')}
fn fromBits(b: u32) -> f32 { return bitcast<f32>(b); }
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn isInf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn signBit(x: f32) -> bool { return (bitcast<u32>(x) & 0x80000000u) != 0u; }
/** |m| with the sign of s. */
fn withSign(m: f32, s: f32) -> f32 { return bitcast<f32>(bitcast<u32>(abs(m)) | (bitcast<u32>(s) & 0x80000000u)); }
fn nanF() -> f32 { return fromBits(0x7fc00000u); }
fn infF() -> f32 { return fromBits(0x7f800000u); }

// exp: 2^k·e^r, k = round(x·log2 e), r = x − k·ln2 (ln2 split so that k·LN2_HI is exact),
// e^r = 1 + r + r²·P(r); 2^k applied as two normal factors so that subnormal results and the
// overflow to inf come out right.
fn expF(x0: f32) -> f32 {
  if (isNan(x0)) { return x0; }
  let x = clamp(x0, -104.0, 89.0);
  let k = round(x * LOG2E);
  var r = x - k * LN2_HI;
  r = r - k * LN2_LO;
  var q = r * EP4 + EP3;
  q = r * q + EP2;
  q = r * q + EP1;
  q = r * q + EP0;
  let e = (r * r) * q + r + 1.0;
  let ki = i32(k);
  let k1 = ki >> 1u;
  let k2 = ki - k1;
  return e * fromBits(u32(k1 + 127) << 23u) * fromBits(u32(k2 + 127) << 23u);
}

// log: x = 2^e·m, m ∈ [√½, √2), f = m − 1, s = f/(2+f), log(1+f) = f − f²/2 + s·(f²/2 + R(s²)).
fn logF(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) >= 0x7f800000u) {
    if (b == 0xff800000u) { return nanF(); } // log(−inf)
    return x; // NaN, +inf
  }
  if ((b & 0x7fffffffu) == 0u) { return -infF(); }
  if (signBit(x)) { return nanF(); }
  let tiny = x < 1.17549435e-38; // subnormal: scale by 2^23 first
  let xs = select(x, x * 8388608.0, tiny);
  let t = bitcast<i32>(xs) - 0x3f3504f3;
  let e = (t >> 23u) + select(0, -23, tiny);
  let m = bitcast<f32>((t & 0x007fffff) + 0x3f3504f3);
  let f = m - 1.0;
  let s = f / (f + 2.0);
  let z = s * s;
  let R = z * (z * (z * LR2 + LR1) + LR0);
  let hf = f * f * 0.5;
  let ef = f32(e);
  let lo = ef * LN2_LO + s * (hf + R);
  return ef * LN2_HI + ((lo - hf) + f);
}

// tanh: x + x³·P(x²) for |x| < 0.55, else (1 − e)/(1 + e), e = exp(−2|x|), with x's sign.
fn tanhF(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.55) {
    let z = x * x;
    var q = z * TP4 + TP3;
    q = z * q + TP2;
    q = z * q + TP1;
    q = z * q + TP0;
    return (x * z) * q + x;
  }
  let e = expF(-2.0 * a);
  return withSign((1.0 - e) / (1.0 + e), x);
}

// erf: x + x·P(x²) for |x| < 0.9; else 1 − erfc|x| with erfc a = t·exp(Q(t) − a²),
// t = 1/(1 + a/2) (relative error of erf about 2e-7 everywhere).
/** erf(x) for |x| < ERF_SPLIT, given z = x². */
fn erfSmall(x: f32, z: f32) -> f32 {
  var q = z * FP6 + FP5;
  q = z * q + FP4;
  q = z * q + FP3;
  q = z * q + FP2;
  q = z * q + FP1;
  q = z * q + FP0;
  return x * q + x;
}
/** erfc(a) for a ≥ ERF_SPLIT, given a2 ≈ a². */
fn erfcPos(a: f32, a2: f32) -> f32 {
  let t = 1.0 / (a * 0.5 + 1.0);
  var q = t * Q10 + Q9;
  q = t * q + Q8;
  q = t * q + Q7;
  q = t * q + Q6;
  q = t * q + Q5;
  q = t * q + Q4;
  q = t * q + Q3;
  q = t * q + Q2;
  q = t * q + Q1;
  q = t * q + Q0;
  return t * expF(q - a2);
}
fn erfF(x: f32) -> f32 {
  let a = abs(x);
  if (a < ERF_SPLIT) { return erfSmall(x, x * x); }
  return withSign(1.0 - erfcPos(a, x * x), x);
}
// Φ(x) = ½·erfc(−x/√2); the left tail from erfc directly (no cancellation), u² as ½·x·x.
fn phiF(x: f32) -> f32 {
  let u = x * SQRT1_2;
  let a = abs(u);
  if (a < ERF_SPLIT) { return erfSmall(u, u * u) * 0.5 + 0.5; }
  let h = erfcPos(a, x * x * 0.5) * 0.5;
  return select(1.0 - h, h, x < 0.0);
}

// σ(x) = 1/(1+e) for x ≥ 0, e/(1+e) for x < 0, e = exp(−|x|).
fn sigmoidF(x: f32) -> f32 {
  let e = expF(-abs(x));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, x >= 0.0);
}
// GELU: x·Φ(x) and x·σ(2g), g = √(2/π)(x + 0.044715x³); both 0 at −inf.
fn isNegInf(x: f32) -> bool { return bitcast<u32>(x) == 0xff800000u; }
fn geluF(x: f32) -> f32 {
  if (isNegInf(x)) { return 0.0; }
  return x * phiF(x);
}
fn geluTanhArg2(x: f32) -> f32 { return (x * x * x * GELU_C + x) * (2.0 * SQRT_2_PI); }
fn geluTanhF(x: f32) -> f32 {
  if (isNegInf(x)) { return 0.0; }
  return x * sigmoidF(geluTanhArg2(x));
}
fn geluGrad(x: f32) -> f32 {
  let phi = phiF(x);
  if (isInf(x)) { return phi; } // the limits 0 and 1
  return (x * expF(x * x * -0.5)) * INV_SQRT_2PI + phi;
}
fn geluTanhGrad(x: f32) -> f32 {
  let s = sigmoidF(geluTanhArg2(x));
  if (isInf(x)) { return s; }
  let dg = (x * x * (3.0 * GELU_C) + 1.0) * (2.0 * SQRT_2_PI);
  return (x * s * (1.0 - s)) * dg + s;
}

// x^a with JavaScript's Math.pow semantics (signs of negative x with integer a, ±0, ±inf, NaN).
// The common exponents directly; otherwise exp(a·log|x|) in float32 (relative error about
// (1 + |a·log x|)·2^-23, where the WebAssembly kernel rounds a float64 result).
fn powF(x: f32, a: f32) -> f32 {
  if (a == 2.0) { return x * x; }
  if (a == 1.0) { return x; }
  if (a == 3.0) { return x * x * x; }
  if (a == 4.0) { let s = x * x; return s * s; }
  if (a == -1.0) { return 1.0 / x; }
  if (a == -2.0) { let r = 1.0 / x; return r * r; }
  // Math.pow(±0, ½) = +0 (not sqrt's −0), Math.pow(−inf, ½) = +inf; tested on the bits, since a
  // compiler may fold sqrt(x) + 0 into sqrt(x)
  let zero = (bitcast<u32>(x) & 0x7fffffffu) == 0u;
  if (a == 0.5) {
    if (isNegInf(x)) { return infF(); }
    if (zero) { return 0.0; }
    return sqrtF(x);
  }
  if (a == -0.5) {
    if (isNegInf(x)) { return 0.0; }
    if (zero) { return infF(); }
    return 1.0 / sqrtF(x);
  }
  if (isNan(a)) { return a; }
  if (a == 0.0) { return 1.0; }
  if (isNan(x)) { return x; }
  let ax = abs(x);
  if (isInf(a)) {
    if (ax == 1.0) { return nanF(); }
    return select(0.0, infF(), (ax > 1.0) == (a > 0.0));
  }
  let isInt = floor(a) == a;
  let odd = isInt && abs(a) < 16777216.0 && (i32(abs(a)) & 1) == 1; // larger f32 integers are even
  var m: f32;
  if (ax == 0.0) { m = select(infF(), 0.0, a > 0.0); }
  else if (isInf(x)) { m = select(0.0, infF(), a > 0.0); }
  else {
    if (signBit(x) && !isInt) { return nanF(); }
    m = expF(a * logF(ax));
  }
  return select(m, -m, signBit(x) && odd);
}
/** sqrt with NaN for x < 0 (WGSL leaves that undefined). */
fn sqrtF(x: f32) -> f32 {
  if (signBit(x) && x != 0.0) { return nanF(); }
  return sqrt(x);
}
`;

// ---------------------------------------------------------------- buffers as 32-bit words
// Kernels read and write their buffers through typed accessors (ld_x(k), st_y(k, v), k counted from
// the view's start) over u32 words: views of one allocation, which the backend binds once, may then
// hold different types (an in-place cast), and copies move int32 data bit for bit.
type Refs = Parameters<RunShader>[1];

interface Kernel {
  name: string;
  /** Buffers: 'x' (f32), 'idx:i32', 'bits:u32'. */
  buffers: readonly string[];
  params: readonly string[];
  prelude?: string;
  body: string;
}

function kernel(spec: Kernel): (run: RunShader, refs: Refs, params: readonly number[], n: number) => void {
  const typed = spec.buffers.map((b) => {
    const [name, type = 'f32'] = b.split(':');
    return { name, type };
  });
  const access = typed.map(({ name, type }) =>
    `fn ld_${name}(k: u32) -> ${type} { return bitcast<${type}>(${name}[p.o_${name} + k]); }\n` +
    `fn st_${name}(k: u32, v: ${type}) { ${name}[p.o_${name} + k] = bitcast<u32>(v); }`);
  const compiled = shader(spec.name, {
    buffers: typed.map(({ name }) => `${name}:u32`),
    params: spec.params,
    workgroupSize: WG,
    prelude: [...access, spec.prelude ?? ''].join('\n'),
    body: spec.body,
  });
  return (run, refs, params, n) => run(compiled, refs, params, groups(n));
}

// ---------------------------------------------------------------- unary
const unary = kernel({
  name: 'unary',
  buffers: ['x', 'y'],
  params: ['op:u32', 'n:u32', 'alpha:f32'],
  prelude: MATH,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  let v = ld_x(i);
  let al = p.alpha;
  var r: f32;
  switch p.op {
    case ${U.neg}u: { r = -v; }
    case ${U.exp}u: { r = expF(v); }
    case ${U.log}u: { r = logF(v); }
    case ${U.sqrt}u: { r = sqrtF(v); }
    case ${U.rsqrt}u: { r = 1.0 / sqrtF(v); }
    case ${U.tanh}u: { r = tanhF(v); }
    case ${U.relu}u: { r = max(v, 0.0); }
    case ${U.gelu}u: { r = geluF(v); }
    case ${U.geluTanh}u: { r = geluTanhF(v); }
    case ${U.sigmoid}u: { r = sigmoidF(v); }
    case ${U.addScalar}u: { r = v + al; }
    case ${U.mulScalar}u: { r = v * al; }
    case ${U.powScalar}u: { r = powF(v, al); }
    case ${U.abs}u: { r = abs(v); }
    case ${U.square}u: { r = v * v; }
    case ${U.erf}u: { r = erfF(v); }
    case ${U.reciprocal}u: { r = 1.0 / v; }
    case ${U.step}u: { r = select(0.0, 1.0, v > 0.0 && !isNan(v)); }
    default: { r = nanF(); }
  }
  // f(NaN) = NaN but for step (0) and pow (its own rules: NaN^0 = 1).
  if (isNan(v) && p.op != ${U.step}u && p.op != ${U.powScalar}u) { r = v; }
  st_y(i, r);`,
});

// ---------------------------------------------------------------- unary gradients
// dx = dy·f′(x), with y = f(x) where the WebAssembly kernel uses it (its `ugrad`).
const unaryGrad = kernel({
  name: 'unaryGrad',
  buffers: ['x', 'y', 'dy', 'dx'],
  params: ['op:u32', 'n:u32', 'alpha:f32'],
  prelude: MATH,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  let v = ld_x(i);
  let w = ld_y(i);
  let g = ld_dy(i);
  let al = p.alpha;
  var r: f32;
  switch p.op {
    case ${U.neg}u: { r = -g; }
    case ${U.exp}u: { r = g * w; }
    case ${U.log}u: { r = g / v; }
    case ${U.sqrt}u: { r = (g * 0.5) / w; }
    case ${U.rsqrt}u: { r = (g * -0.5) * (w * w * w); }
    case ${U.tanh}u: { r = g * (1.0 - w * w); }
    case ${U.relu}u: { r = select(0.0, g, v > 0.0 && !isNan(v)); }
    case ${U.gelu}u: { r = g * geluGrad(v); }
    case ${U.geluTanh}u: { r = g * geluTanhGrad(v); }
    case ${U.sigmoid}u: { r = (g * w) * (1.0 - w); }
    case ${U.addScalar}u: { r = g; }
    case ${U.mulScalar}u: { r = g * al; }
    case ${U.powScalar}u: { r = select((g * al) * powF(v, al - 1.0), 0.0, al == 0.0); }
    case ${U.abs}u: {
      // sign(x)·dy, 0 at ±0; a NaN x gives −dy as in the WebAssembly kernel
      r = select(select(-g, g, v > 0.0 && !isNan(v)), 0.0, v == 0.0 && !isNan(v));
    }
    case ${U.square}u: { r = g * (v + v); }
    case ${U.erf}u: { r = (g * TWO_SQRT_PI) * expF(-(v * v)); }
    case ${U.reciprocal}u: { r = -(g * (w * w)); }
    case ${U.step}u: { r = 0.0; }
    default: { r = nanF(); }
  }
  st_dx(i, r);`,
});

// ---------------------------------------------------------------- GELU with its derivative
// y = GELU(x) and d = GELU′(x) for training (the WebAssembly kernel shares Φ(x) between them).
const geluWithGrad = kernel({
  name: 'geluWithGrad',
  buffers: ['x', 'y', 'd'],
  params: ['n:u32'],
  prelude: MATH,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  let v = ld_x(i);
  st_y(i, select(geluF(v), v, isNan(v)));
  st_d(i, geluGrad(v));`,
});

// ---------------------------------------------------------------- strided offsets
// Descriptor (i32): [rank, shape[rank], strides_0[rank], strides_1[rank], …], strides in
// elements (0 on broadcast axes). The output is contiguous over shape; stridedOffset gives input
// j's element offset (from its view's start) for output element i.
const STRIDED = /* wgsl */ `
fn stridedOffset(i: u32, j: u32) -> u32 {
  let rank = u32(ld_desc(0u));
  var rem = i32(i);
  var off = 0;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let sh = ld_desc(1u + u32(d));
    let q = rem / sh;
    off += (rem - q * sh) * ld_desc(1u + (1u + j) * rank + u32(d));
    rem = q;
  }
  return u32(off);
}`;

// ---------------------------------------------------------------- binary
const binary = kernel({
  name: 'binary',
  buffers: ['a', 'b', 'res', 'desc:i32'],
  params: ['op:u32', 'n:u32'],
  prelude: MATH + STRIDED,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  var ia = i;
  var ib = i;
  if (p.o_desc != NONE) {
    ia = stridedOffset(i, 0u);
    ib = stridedOffset(i, 1u);
  }
  let u = ld_a(ia);
  let v = ld_b(ib);
  let anyNan = isNan(u) || isNan(v);
  var r: f32;
  switch p.op {
    case ${B.add}u: { r = u + v; }
    case ${B.sub}u: { r = u - v; }
    case ${B.mul}u: { r = u * v; }
    case ${B.div}u: { r = u / v; }
    // NaN propagates; at a tie the bits are and-ed (max(−0, +0) = +0) or or-ed (min = −0)
    case ${B.maximum}u: {
      r = select(max(u, v), bitcast<f32>(bitcast<u32>(u) & bitcast<u32>(v)), u == v);
      if (anyNan) { r = nanF(); }
    }
    case ${B.minimum}u: {
      r = select(min(u, v), bitcast<f32>(bitcast<u32>(u) | bitcast<u32>(v)), u == v);
      if (anyNan) { r = nanF(); }
    }
    case ${B.eq}u: { r = select(0.0, 1.0, u == v && !anyNan); }
    case ${B.gt}u: { r = select(0.0, 1.0, u > v && !anyNan); }
    case ${B.ge}u: { r = select(0.0, 1.0, u >= v && !anyNan); }
    case ${B.lt}u: { r = select(0.0, 1.0, u < v && !anyNan); }
    case ${B.pow}u: { r = powF(u, v); }
    default: { r = nanF(); }
  }
  st_res(i, r);`,
});

// ---------------------------------------------------------------- where
// res = cond ≠ 0 ? a : b, moving bits (any 4-byte element); a NaN cond counts as true.
const where = kernel({
  name: 'where',
  buffers: ['c:u32', 'a:u32', 'b:u32', 'res:u32', 'desc:i32'],
  params: ['n:u32'],
  prelude: STRIDED,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  var ic = i;
  var ia = i;
  var ib = i;
  if (p.o_desc != NONE) {
    ic = stridedOffset(i, 0u);
    ia = stridedOffset(i, 1u);
    ib = stridedOffset(i, 2u);
  }
  let t = (ld_c(ic) & 0x7fffffffu) != 0u; // not ±0
  st_res(i, select(ld_b(ib), ld_a(ia), t));`,
});

// ---------------------------------------------------------------- copies
// y (contiguous) = x read through desc [rank, shape…, strides…]; bits moved, so int32 copies too.
const copyStrided = kernel({
  name: 'copyStrided',
  buffers: ['x:u32', 'y:u32', 'desc:i32'],
  params: ['n:u32'],
  prelude: STRIDED,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  var ix = i;
  if (p.o_desc != NONE) { ix = stridedOffset(i, 0u); }
  st_y(i, ld_x(ix));`,
});

// y read through desc ← x (contiguous): the inverse of copyStrided.
const copyToStrided = kernel({
  name: 'copyToStrided',
  buffers: ['x:u32', 'y:u32', 'desc:i32'],
  params: ['n:u32'],
  prelude: STRIDED,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  st_y(stridedOffset(i, 0u), ld_x(i));`,
});

// ---------------------------------------------------------------- fill, casts
const fill = kernel({
  name: 'fill',
  buffers: ['y:u32'],
  params: ['n:u32', 'value:f32'],
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  st_y(i, bitcast<u32>(p.value));`,
});

// i32 → f32 rounded to nearest, ties to even, done on the integer: WGSL lets the conversion
// round either way when |x| > 2^24.
const castI32F32 = kernel({
  name: 'castI32F32',
  buffers: ['x:i32', 'y'],
  params: ['n:u32'],
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  let v = ld_x(i);
  let mag = select(u32(v), 0u - u32(v), v < 0); // |v| (2^31 for i32 min)
  let drop = max(i32(firstLeadingBit(mag)) - 23, 0); // bits below a 24-bit mantissa
  var r: f32;
  if (drop == 0) { r = f32(mag); }
  else {
    let s = u32(drop);
    var m = mag >> s;
    let rest = mag & ((1u << s) - 1u);
    let half = 1u << (s - 1u);
    if (rest > half || (rest == half && (m & 1u) == 1u)) { m += 1u; }
    r = f32(m) * f32(1u << s); // exact: m ≤ 2^24, times a power of two
  }
  st_y(i, select(r, -r, v < 0));`,
});

// f32 → i32 truncated toward zero, saturating; NaN → 0 (WebAssembly's trunc_sat).
const castF32I32 = kernel({
  name: 'castF32I32',
  buffers: ['x', 'y:i32'],
  params: ['n:u32'],
  prelude: /* wgsl */ `
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }`,
  body: /* wgsl */ `
  if (i >= p.n) { return; }
  let v = ld_x(i);
  var r = 0;
  if (isNan(v)) { r = 0; }
  else if (v >= 2147483648.0) { r = 2147483647; }
  else if (v <= -2147483648.0) { r = -2147483647 - 1; }
  else { r = i32(trunc(v)); }
  st_y(i, r);`,
});

export const ELEMENTWISE: Partial<GpuKernelTable> = {
  unary: ([op, x, y, n, alpha], run) => unary(run, [x, y], [op, n, alpha], n),
  unaryGrad: ([op, x, y, dy, dx, n, alpha], run) => unaryGrad(run, [x, y, dy, dx], [op, n, alpha], n),
  geluWithGrad: ([x, y, d, n], run) => geluWithGrad(run, [x, y, d], [n], n),
  binary: ([op, a, b, out, n, desc], run) => binary(run, [a, b, out, desc], [op, n], n),
  where: ([cond, a, b, out, n, desc], run) => where(run, [cond, a, b, out, desc], [n], n),
  copyStrided: ([x, y, n, desc], run) => copyStrided(run, [x, y, desc], [n], n),
  copyToStrided: ([x, y, n, desc], run) => copyToStrided(run, [x, y, desc], [n], n),
  fill: ([y, n, value], run) => fill(run, [y], [n, value], n),
  castI32F32: ([x, y, n], run) => castI32F32(run, [x, y], [n], n),
  castF32I32: ([x, y, n], run) => castF32I32(run, [x, y], [n], n),
};
