// Exact softmax attention, fused and tiled (FlashAttention-style), never storing an n×n matrix.
//
// Shapes (f32, contiguous): q, out, dq [BH, n, d]; k, v, dk, dv [BH, nk, d]; bias [BH / biasStride,
// nk] or 0 (key j of head-batch bh adds bias[(bh / biasStride)·nk + j]: pass biasStride = H for a
// (B, nk) key-padding bias); stats [2, BH·n] (below); delta [BH·n].
//
//   s = scale·q·kᵀ + bias        P = softmax_j(s)        out = P·v
//
// Forward: for each block of T queries, an online softmax over blocks of T keys keeps a running
// row max m, a running Σ exp(s − m) = l and an unnormalised accumulator O; a new key block with
// larger max m' rescales them by exp(m − m'). At the end out = O / l, and stats receives m
// (stats[row]) and log l (stats[BH·n + row]), i.e. the row log-sum-exp lse = m + log l kept as two
// terms: with −1e9 biases m ≈ −1e9 and m + log l would round log l away in f32.
//
// Backward (dout given): P is recomputed tile by tile as exp((s − m) − log l), and with
//   D_i = Σ_c dout_ic·out_ic,   dP = dout·vᵀ,   dS = P ⊙ (dP − D)
//   dq = scale·dS·k     (flashBackwardQuery: units (bh, query block), also writes delta = D)
//   dk = scale·dSᵀ·q,   dv = Pᵀ·dout    (flashBackwardKey: units (bh, key block), reads delta)
// Each output row is written by one unit, and a unit's arithmetic depends only on the fixed
// T-blocking, never on the thread split, so results are bit-identical for any nt and race-free.
//
// Attention dropout (dropThreshold ≠ 0): probability (bh, i, j) — element idx = (bh·n + i)·nk + j of
// the (BH, n, nk) probabilities — is kept and scaled by dropScale = 1/(1 − p) when the top 32 bits of
// mix(key + (idx + 1)·γ) (key = streamKey(dropSeed), hash.ts) are ≥ dropThreshold = p·2³², else dropped:
//   out = (P ⊙ M)·v (l sums the undropped P),   dP̃ = dout·vᵀ ⊙ M,   dS = P ⊙ (dP̃ − D),   dv = (P ⊙ M)ᵀ·dout
// with D = rowsum(dout ⊙ out) = Σ_j P·dP̃ still, so the backward changes only where M enters. The forward
// and both backward kernels regenerate the same M from (seed, idx): nothing n×n is stored.
//
// Masks: keys with bias −1e9 get probability 0 in any row that has an unmasked key; a row whose
// keys are all −1e9 attends uniformly over them and stays finite (as PyTorch with −1e9). A row
// whose keys are all −inf gives NaN (l = 0: out = 0/0), like PyTorch's softmax of an all −inf row,
// and NaN gradients; −inf on some keys of a row is fine (probability 0).
//
// Tiles: S = A·Bᵀ products use the GEMM micro-tile (4 rows × 8 columns of f32x4 accumulators,
// A packed in 4-row panels [c][4], Bᵀ packed [c][T]); P·V-like products accumulate 4 rows × 8
// features into a [T, d] scratch, reading the right operand (v, k, q, dout rows) in place.
// Scratch: `workBytes` per thread at `work` (flashWorkBytes in the TS op mirrors needBytes).
import { GAMMA, mix, streamKey } from './hash';
import { shareStart } from './partition';
import './elementwise'; // @global f32x4 helpers: expv, logv, loadPartial, storePartial

/** Block size: T queries × T keys per tile. */
const T: i32 = 64;
/** Bytes per scratch row of T floats. */
const TB: usize = 256;
const NEG_INF: f32 = -Infinity;

// @ts-ignore: decorator
@inline function sp(x: f32): v128 { return f32x4.splat(x); }
// @ts-ignore: decorator
@inline function add(a: v128, b: v128): v128 { return f32x4.add(a, b); }
// @ts-ignore: decorator
@inline function sub(a: v128, b: v128): v128 { return f32x4.sub(a, b); }
// @ts-ignore: decorator
@inline function mul(a: v128, b: v128): v128 { return f32x4.mul(a, b); }
/** a·b + c; relaxed_madd may fuse (one rounding): deterministic within one build. */
// @ts-ignore: decorator
@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  else return f32x4.add(f32x4.mul(a, b), c);
}
// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }
// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
// @ts-ignore: decorator
@inline function hmax(v: v128): f32 {
  return max<f32>(max<f32>(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max<f32>(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}
// @ts-ignore: decorator
@inline function exp1(x: f32): f32 { return f32x4.extract_lane(expv(sp(x)), 0); }
// @ts-ignore: decorator
@inline function log1(x: f32): f32 { return f32x4.extract_lane(logv(sp(x)), 0); }

/** dropScale where element idx is kept, else 0 (see the file header). */
// @ts-ignore: decorator
@inline function keep(key: u64, idx: u64, threshold: u32, dropScale: f32): f32 {
  return <u32>(mix(key + (idx + 1) * GAMMA) >> 32) >= threshold ? dropScale : 0;
}

/** The dropout multipliers of elements idx, idx + stride, idx + 2·stride, idx + 3·stride. */
// @ts-ignore: decorator
@inline function keep4(key: u64, idx: u64, stride: u64, threshold: u32, dropScale: f32): v128 {
  let v = f32x4.splat(keep(key, idx, threshold, dropScale));
  v = f32x4.replace_lane(v, 1, keep(key, idx + stride, threshold, dropScale));
  v = f32x4.replace_lane(v, 2, keep(key, idx + 2 * stride, threshold, dropScale));
  return f32x4.replace_lane(v, 3, keep(key, idx + 3 * stride, threshold, dropScale));
}

/** Scratch bytes one thread needs for head size d (any of the kernels below). */
function needBytes(d: i32): i32 {
  return ((6 * T * d + 2 * T * T + 4 * T) << 2) + 64;
}

// ---------------------------------------------------------------- packing

// 4×4 transpose: d[q] = (s0[q], s1[q], s2[q], s3[q]) stored dstStride bytes apart.
// @ts-ignore: decorator
@inline function transpose4(d: usize, dstStride: usize, s0: usize, s1: usize, s2: usize, s3: usize): void {
  const r0 = v128.load(s0), r1 = v128.load(s1), r2 = v128.load(s2), r3 = v128.load(s3);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(d + dstStride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(d + dstStride * 2, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(d + dstStride * 3, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/** Rows [0, rows) of a row-major [·, d] block as 4-row panels dst[r/4][c][r%4]; the last panel
 *  repeats the last row (those rows are computed and never stored). */
function packPanels(dst: usize, src: usize, rows: i32, d: i32): void {
  const pitch = <usize>d << 2;
  for (let r = 0; r < rows; r += 4) {
    const s0 = src + <usize>r * pitch;
    const s1 = r + 1 < rows ? s0 + pitch : s0;
    const s2 = r + 2 < rows ? s1 + pitch : s1;
    const s3 = r + 3 < rows ? s2 + pitch : s2;
    let c = 0;
    for (; c + 4 <= d; c += 4) {
      const o = <usize>c << 2;
      transpose4(dst + (<usize>c << 4), 16, s0 + o, s1 + o, s2 + o, s3 + o);
    }
    for (; c < d; c++) {
      const o = <usize>c << 2, x = dst + (<usize>c << 4);
      store<f32>(x, load<f32>(s0 + o)); store<f32>(x, load<f32>(s1 + o), 4);
      store<f32>(x, load<f32>(s2 + o), 8); store<f32>(x, load<f32>(s3 + o), 12);
    }
    dst += <usize>d << 4;
  }
}

/** dst[c][j] (row pitch T) = src[j][c] for j < cols; zero for cols ≤ j < ⌈cols/8⌉·8. */
function packTransposed(dst: usize, src: usize, cols: i32, d: i32): void {
  const pitch = <usize>d << 2;
  let j = 0;
  for (; j + 4 <= cols; j += 4) {
    const s0 = src + <usize>j * pitch, s1 = s0 + pitch, s2 = s1 + pitch, s3 = s2 + pitch;
    let c = 0;
    for (; c + 4 <= d; c += 4) {
      const o = <usize>c << 2;
      transpose4(at(dst, c * T + j), TB, s0 + o, s1 + o, s2 + o, s3 + o);
    }
    for (; c < d; c++) {
      const o = <usize>c << 2, x = at(dst, c * T + j);
      store<f32>(x, load<f32>(s0 + o)); store<f32>(x, load<f32>(s1 + o), 4);
      store<f32>(x, load<f32>(s2 + o), 8); store<f32>(x, load<f32>(s3 + o), 12);
    }
  }
  for (; j < cols; j++) {
    const s = src + <usize>j * pitch;
    for (let c = 0; c < d; c++) store<f32>(at(dst, c * T + j), load<f32>(at(s, c)));
  }
  const cols8 = (cols + 7) & ~7;
  for (; j < cols8; j++) for (let c = 0; c < d; c++) store<f32>(at(dst, c * T + j), 0);
}

// ---------------------------------------------------------------- tile products

/** S[r][j] = Σ_c A[r][c]·Bᵀ[c][j] for r < rows4 (A packed by packPanels), j < ⌈cols/8⌉·8,
 *  c in increasing order; S has row pitch T. */
function scores(s: usize, ap: usize, rows4: i32, bt: usize, cols: i32, d: i32): void {
  const cols8 = (cols + 7) & ~7;
  for (let r = 0; r < rows4; r += 4) {
    const a0 = ap + (<usize>(r * d) << 2);
    for (let j = 0; j < cols8; j += 8) {
      let c00 = sp(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      let a = a0, b = at(bt, j);
      for (let c = 0; c < d; c++) {
        const b0 = v128.load(b), b1 = v128.load(b, 16);
        let x = v128.load32_splat(a);
        c00 = fma(x, b0, c00); c01 = fma(x, b1, c01);
        x = v128.load32_splat(a, 4);
        c10 = fma(x, b0, c10); c11 = fma(x, b1, c11);
        x = v128.load32_splat(a, 8);
        c20 = fma(x, b0, c20); c21 = fma(x, b1, c21);
        x = v128.load32_splat(a, 12);
        c30 = fma(x, b0, c30); c31 = fma(x, b1, c31);
        a += 16; b += TB;
      }
      const o = at(s, r * T + j);
      v128.store(o, c00); v128.store(o, c01, 16);
      v128.store(o, c10, 256); v128.store(o, c11, 272);
      v128.store(o, c20, 512); v128.store(o, c21, 528);
      v128.store(o, c30, 768); v128.store(o, c31, 784);
    }
  }
}

/** C[r][:] = C[r][:]·alpha[r] (alpha = 0: no scaling) + Σ_{j<L} A[r][j]·B[j][:] for r < rows4;
 *  A: scratch of row pitch T, B: row-major [L, d] in place, C: scratch [rows4, d]. */
function accumulate(cm: usize, a: usize, b: usize, rows4: i32, L: i32, d: i32, alpha: usize): void {
  const pitch = <usize>d << 2;
  for (let r = 0; r < rows4; r += 4) {
    const ar = at(a, r * T);
    const c0 = cm + <usize>r * pitch, c1 = c0 + pitch, c2 = c1 + pitch, c3 = c2 + pitch;
    let s0 = sp(1), s1 = s0, s2 = s0, s3 = s0;
    if (alpha != 0) {
      s0 = v128.load32_splat(at(alpha, r)); s1 = v128.load32_splat(at(alpha, r), 4);
      s2 = v128.load32_splat(at(alpha, r), 8); s3 = v128.load32_splat(at(alpha, r), 12);
    }
    let c = 0;
    for (; c + 8 <= d; c += 8) {
      const o = <usize>c << 2;
      let x00 = mul(v128.load(c0 + o), s0), x01 = mul(v128.load(c0 + o, 16), s0);
      let x10 = mul(v128.load(c1 + o), s1), x11 = mul(v128.load(c1 + o, 16), s1);
      let x20 = mul(v128.load(c2 + o), s2), x21 = mul(v128.load(c2 + o, 16), s2);
      let x30 = mul(v128.load(c3 + o), s3), x31 = mul(v128.load(c3 + o, 16), s3);
      let ap = ar, bp = b + o;
      for (let j = 0; j < L; j++) {
        const b0 = v128.load(bp), b1 = v128.load(bp, 16);
        let x = v128.load32_splat(ap);
        x00 = fma(x, b0, x00); x01 = fma(x, b1, x01);
        x = v128.load32_splat(ap, 256);
        x10 = fma(x, b0, x10); x11 = fma(x, b1, x11);
        x = v128.load32_splat(ap, 512);
        x20 = fma(x, b0, x20); x21 = fma(x, b1, x21);
        x = v128.load32_splat(ap, 768);
        x30 = fma(x, b0, x30); x31 = fma(x, b1, x31);
        ap += 4; bp += pitch;
      }
      v128.store(c0 + o, x00); v128.store(c0 + o, x01, 16);
      v128.store(c1 + o, x10); v128.store(c1 + o, x11, 16);
      v128.store(c2 + o, x20); v128.store(c2 + o, x21, 16);
      v128.store(c3 + o, x30); v128.store(c3 + o, x31, 16);
    }
    for (; c + 4 <= d; c += 4) {
      const o = <usize>c << 2;
      let x0 = mul(v128.load(c0 + o), s0), x1 = mul(v128.load(c1 + o), s1);
      let x2 = mul(v128.load(c2 + o), s2), x3 = mul(v128.load(c3 + o), s3);
      let ap = ar, bp = b + o;
      for (let j = 0; j < L; j++) {
        const b0 = v128.load(bp);
        x0 = fma(v128.load32_splat(ap), b0, x0); x1 = fma(v128.load32_splat(ap, 256), b0, x1);
        x2 = fma(v128.load32_splat(ap, 512), b0, x2); x3 = fma(v128.load32_splat(ap, 768), b0, x3);
        ap += 4; bp += pitch;
      }
      v128.store(c0 + o, x0); v128.store(c1 + o, x1); v128.store(c2 + o, x2); v128.store(c3 + o, x3);
    }
    for (; c < d; c++) {
      // the last d % 4 features, one lane of a vector: the same per-lane arithmetic as above
      const o = <usize>c << 2;
      let x0 = mul(v128.load32_splat(c0 + o), s0), x1 = mul(v128.load32_splat(c1 + o), s1);
      let x2 = mul(v128.load32_splat(c2 + o), s2), x3 = mul(v128.load32_splat(c3 + o), s3);
      let ap = ar, bp = b + o;
      for (let j = 0; j < L; j++) {
        const b0 = v128.load32_splat(bp);
        x0 = fma(v128.load32_splat(ap), b0, x0); x1 = fma(v128.load32_splat(ap, 256), b0, x1);
        x2 = fma(v128.load32_splat(ap, 512), b0, x2); x3 = fma(v128.load32_splat(ap, 768), b0, x3);
        ap += 4; bp += pitch;
      }
      store<f32>(c0 + o, f32x4.extract_lane(x0, 0)); store<f32>(c1 + o, f32x4.extract_lane(x1, 0));
      store<f32>(c2 + o, f32x4.extract_lane(x2, 0)); store<f32>(c3 + o, f32x4.extract_lane(x3, 0));
    }
  }
}

/** dst[r][:] = src[r][:]·s for r < rows (src scratch and dst both of row pitch d). */
function storeRows(dst: usize, src: usize, rows: i32, d: i32, s: f32): void {
  const n = rows * d;
  const vs = sp(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), mul(v128.load(at(src, i)), vs));
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(src, i)) * s);
}

function zero(p: usize, n: i32): void {
  memory.fill(p, 0, <usize>n << 2);
}

/** Key bias of one block into kb[0, ⌈cols/8⌉·8): bias (or 0) for real keys, −inf on the padding. */
function keyBias(kb: usize, biasRow: usize, j0: i32, cols: i32): void {
  const cols8 = (cols + 7) & ~7;
  for (let j = 0; j < cols8; j++) {
    let x: f32 = NEG_INF;
    if (j < cols) x = biasRow != 0 ? load<f32>(at(biasRow, j0 + j)) : 0;
    store<f32>(at(kb, j), x);
  }
}

/** Σ_c x[c]·y[c] by the same per-lane chain as an entry of a scores() tile (c increasing, one
 *  fma each), so D_i equals dP_ij bit for bit when out_i = v_j (a one-hot row: dS = 0 exactly). */
function dot(x: usize, y: usize, d: i32): f32 {
  let a = sp(0);
  for (let c = 0; c < d; c++) a = fma(v128.load32_splat(at(x, c)), v128.load32_splat(at(y, c)), a);
  return f32x4.extract_lane(a, 0);
}

// @ts-ignore: decorator
@inline function scratch(work: usize, tid: i32, workBytes: i32, d: i32): usize {
  if (workBytes < needBytes(d)) unreachable(); // the caller's scratch is too small
  return (work + <usize>tid * <usize>workBytes + 63) & ~<usize>63;
}

// ---------------------------------------------------------------- forward

/** out, stats for every (bh, block of T queries): see the file header. */
export function flashForward(
  tid: i32, nt: i32,
  q: usize, k: usize, v: usize, bias: usize, out: usize, stats: usize,
  BH: i32, n: i32, nk: i32, d: i32, scale: f32, biasStride: i32,
  dropSeed: i32, dropThreshold: u32, dropScale: f32,
  work: usize, workBytes: i32,
): void {
  const nqb = (n + T - 1) / T;
  const u0 = shareStart(BH * nqb, tid, nt, 1), u1 = shareStart(BH * nqb, tid + 1, nt, 1);
  const w = scratch(work, tid, workBytes, d);
  const dropKey = streamKey(dropSeed);
  const td = <usize>(T * d) << 2;
  const qp = w, kt = qp + td, o = kt + td, sb = o + td; // packed q, packed kᵀ, O, S / P
  const mRow = sb + TB * <usize>T, lRow = mRow + TB, aRow = lRow + TB, kb = aRow + TB;
  const pitch = <usize>d << 2;
  const vscale = sp(scale), vNegInf = sp(NEG_INF);
  for (let u = u0; u < u1; u++) {
    const bh = u / nqb, i0 = (u - bh * nqb) * T;
    const rows = min(T, n - i0), rows4 = (rows + 3) & ~3;
    const rowBase = <usize>bh * <usize>n + <usize>i0; // first query row of the unit
    packPanels(qp, q + rowBase * pitch, rows, d);
    zero(o, rows4 * d);
    for (let r = 0; r < rows4; r++) { store<f32>(at(mRow, r), NEG_INF); store<f32>(at(lRow, r), 0); }
    const kBase = k + <usize>bh * <usize>nk * pitch, vBase = v + <usize>bh * <usize>nk * pitch;
    const biasRow = bias == 0 ? 0 : at(bias, (bh / biasStride) * nk);
    for (let j0 = 0; j0 < nk; j0 += T) {
      const cols = min(T, nk - j0), cols8 = (cols + 7) & ~7;
      packTransposed(kt, kBase + <usize>j0 * pitch, cols, d);
      keyBias(kb, biasRow, j0, cols);
      scores(sb, qp, rows4, kt, cols, d); // S = q·kᵀ  [rows4, cols8]
      for (let r = 0; r < rows4; r++) {
        const sr = at(sb, r * T);
        // s = scale·S + bias, and its block max
        let mx = vNegInf;
        for (let j = 0; j < cols8; j += 4) {
          const x = add(mul(v128.load(at(sr, j)), vscale), v128.load(at(kb, j)));
          v128.store(at(sr, j), x);
          mx = f32x4.max(mx, x);
        }
        const mOld = load<f32>(at(mRow, r));
        const mNew = max<f32>(mOld, hmax(mx));
        const mUse: f32 = mNew == NEG_INF ? 0 : mNew; // all −inf so far: P = 0, not NaN
        // P = exp(s − m'), l' = l·exp(m − m') + Σ P; O is rescaled by exp(m − m') in accumulate
        const vm = sp(mUse);
        let sum = sp(0);
        const idx = (<u64>(rowBase + <usize>r) * <u64>nk) + <u64>j0; // element (bh, i0 + r, j0)
        for (let j = 0; j < cols8; j += 4) {
          const p = expv(sub(v128.load(at(sr, j)), vm));
          v128.store(at(sr, j), dropThreshold == 0 ? p : mul(p, keep4(dropKey, idx + <u64>j, 1, dropThreshold, dropScale)));
          sum = add(sum, p); // l sums the probabilities before dropout
        }
        const alpha = exp1(mOld - mUse);
        store<f32>(at(aRow, r), alpha);
        store<f32>(at(mRow, r), mNew);
        store<f32>(at(lRow, r), load<f32>(at(lRow, r)) * alpha + hsum(sum));
      }
      accumulate(o, sb, vBase + <usize>j0 * pitch, rows4, cols, d, aRow); // O = O·α + P·v
    }
    // out = O / l;  stats = (m, log l)
    for (let r = 0; r < rows; r++) {
      const l = load<f32>(at(lRow, r)), m = load<f32>(at(mRow, r));
      const src = o + <usize>r * pitch, dst = out + (rowBase + <usize>r) * pitch;
      const vl = sp(l);
      let c = 0;
      for (; c + 4 <= d; c += 4) v128.store(at(dst, c), f32x4.div(v128.load(at(src, c)), vl));
      for (; c < d; c++) store<f32>(at(dst, c), load<f32>(at(src, c)) / l);
      const row = <i32>rowBase + r;
      store<f32>(at(stats, row), m == NEG_INF ? 0 : m);
      store<f32>(at(stats, BH * n + row), log1(l));
    }
  }
}

/** The probabilities P [BH, n, nk] themselves (small n only), from the forward's stats. */
export function flashProbs(
  tid: i32, nt: i32,
  q: usize, k: usize, bias: usize, stats: usize, probs: usize,
  BH: i32, n: i32, nk: i32, d: i32, scale: f32, biasStride: i32,
  work: usize, workBytes: i32,
): void {
  const nqb = (n + T - 1) / T;
  const u0 = shareStart(BH * nqb, tid, nt, 1), u1 = shareStart(BH * nqb, tid + 1, nt, 1);
  const w = scratch(work, tid, workBytes, d);
  const td = <usize>(T * d) << 2;
  const qp = w, kt = qp + td, sb = kt + td, kb = sb + TB * <usize>T;
  const pitch = <usize>d << 2;
  const vscale = sp(scale);
  for (let u = u0; u < u1; u++) {
    const bh = u / nqb, i0 = (u - bh * nqb) * T;
    const rows = min(T, n - i0), rows4 = (rows + 3) & ~3;
    const rowBase = <usize>bh * <usize>n + <usize>i0;
    packPanels(qp, q + rowBase * pitch, rows, d);
    const kBase = k + <usize>bh * <usize>nk * pitch;
    const biasRow = bias == 0 ? 0 : at(bias, (bh / biasStride) * nk);
    for (let j0 = 0; j0 < nk; j0 += T) {
      const cols = min(T, nk - j0);
      packTransposed(kt, kBase + <usize>j0 * pitch, cols, d);
      keyBias(kb, biasRow, j0, cols);
      scores(sb, qp, rows4, kt, cols, d);
      for (let r = 0; r < rows; r++) {
        const row = <i32>rowBase + r;
        const vm = sp(load<f32>(at(stats, row))), vl = sp(load<f32>(at(stats, BH * n + row)));
        const sr = at(sb, r * T), dst = probs + ((<usize>row * <usize>nk + <usize>j0) << 2);
        let j = 0;
        for (; j < cols; j += 4) {
          const s = add(mul(v128.load(at(sr, j)), vscale), v128.load(at(kb, j)));
          const p = expv(sub(sub(s, vm), vl));
          if (j + 4 <= cols) v128.store(at(dst, j), p);
          else storePartial(at(dst, j), cols - j, p);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- backward

/** delta = D = rowsum(dout ⊙ out) and, when dq ≠ 0, dq = scale·dS·k, per (bh, block of T queries). */
export function flashBackwardQuery(
  tid: i32, nt: i32,
  q: usize, k: usize, v: usize, bias: usize, out: usize, dout: usize, stats: usize, delta: usize, dq: usize,
  BH: i32, n: i32, nk: i32, d: i32, scale: f32, biasStride: i32,
  dropSeed: i32, dropThreshold: u32, dropScale: f32,
  work: usize, workBytes: i32,
): void {
  const nqb = (n + T - 1) / T;
  const u0 = shareStart(BH * nqb, tid, nt, 1), u1 = shareStart(BH * nqb, tid + 1, nt, 1);
  const w = scratch(work, tid, workBytes, d);
  const dropKey = streamKey(dropSeed);
  const td = <usize>(T * d) << 2;
  const qp = w, dop = qp + td, kt = dop + td, vt = kt + td, acc = vt + td; // packed q, dout, kᵀ, vᵀ; dq
  const sb = acc + td, pb = sb + TB * <usize>T; // S → dS, dP
  const kb = pb + TB * <usize>T, mRow = kb + TB, lRow = mRow + TB, dRow = lRow + TB;
  const pitch = <usize>d << 2;
  const vscale = sp(scale);
  for (let u = u0; u < u1; u++) {
    const bh = u / nqb, i0 = (u - bh * nqb) * T;
    const rows = min(T, n - i0), rows4 = (rows + 3) & ~3;
    const rowBase = <usize>bh * <usize>n + <usize>i0;
    for (let r = 0; r < rows4; r++) {
      const rr = min(r, rows - 1), row = <i32>rowBase + rr;
      const D = r < rows ? dot(dout + (rowBase + <usize>rr) * pitch, out + (rowBase + <usize>rr) * pitch, d) : load<f32>(at(dRow, rr));
      if (r < rows) store<f32>(at(delta, row), D);
      store<f32>(at(dRow, r), D);
      store<f32>(at(mRow, r), load<f32>(at(stats, row)));
      store<f32>(at(lRow, r), load<f32>(at(stats, BH * n + row)));
    }
    if (dq == 0) continue;
    packPanels(qp, q + rowBase * pitch, rows, d);
    packPanels(dop, dout + rowBase * pitch, rows, d);
    zero(acc, rows4 * d);
    const kBase = k + <usize>bh * <usize>nk * pitch, vBase = v + <usize>bh * <usize>nk * pitch;
    const biasRow = bias == 0 ? 0 : at(bias, (bh / biasStride) * nk);
    for (let j0 = 0; j0 < nk; j0 += T) {
      const cols = min(T, nk - j0), cols8 = (cols + 7) & ~7;
      packTransposed(kt, kBase + <usize>j0 * pitch, cols, d);
      packTransposed(vt, vBase + <usize>j0 * pitch, cols, d);
      keyBias(kb, biasRow, j0, cols);
      scores(sb, qp, rows4, kt, cols, d);  // S = q·kᵀ
      scores(pb, dop, rows4, vt, cols, d); // dP = dout·vᵀ
      for (let r = 0; r < rows4; r++) {
        const sr = at(sb, r * T), pr = at(pb, r * T);
        const vm = v128.load32_splat(at(mRow, r)), vl = v128.load32_splat(at(lRow, r)), vD = v128.load32_splat(at(dRow, r));
        const idx = (<u64>(rowBase + <usize>r) * <u64>nk) + <u64>j0;
        for (let j = 0; j < cols8; j += 4) {
          const s = add(mul(v128.load(at(sr, j)), vscale), v128.load(at(kb, j)));
          const p = expv(sub(sub(s, vm), vl));
          const dP = v128.load(at(pr, j));
          const dPd = dropThreshold == 0 ? dP : mul(dP, keep4(dropKey, idx + <u64>j, 1, dropThreshold, dropScale));
          v128.store(at(sr, j), mul(p, sub(dPd, vD))); // dS = P ⊙ (dP ⊙ M − D)
        }
      }
      accumulate(acc, sb, kBase + <usize>j0 * pitch, rows4, cols, d, 0); // dq += dS·k
    }
    storeRows(dq + rowBase * pitch, acc, rows, d, scale);
  }
}

/** dk = scale·dSᵀ·q and dv = Pᵀ·dout per (bh, block of T keys); needs delta from flashBackwardQuery.
 *  dk or dv may be 0 (not wanted). */
export function flashBackwardKey(
  tid: i32, nt: i32,
  q: usize, k: usize, v: usize, bias: usize, dout: usize, stats: usize, delta: usize, dk: usize, dv: usize,
  BH: i32, n: i32, nk: i32, d: i32, scale: f32, biasStride: i32,
  dropSeed: i32, dropThreshold: u32, dropScale: f32,
  work: usize, workBytes: i32,
): void {
  const nkb = (nk + T - 1) / T;
  const u0 = shareStart(BH * nkb, tid, nt, 1), u1 = shareStart(BH * nkb, tid + 1, nt, 1);
  const w = scratch(work, tid, workBytes, d);
  const dropKey = streamKey(dropSeed);
  const td = <usize>(T * d) << 2;
  const kp = w, vp = kp + td, qt = vp + td, dot_ = qt + td, dkAcc = dot_ + td, dvAcc = dkAcc + td;
  const sb = dvAcc + td, pb = sb + TB * <usize>T; // Sᵀ → Pᵀ, dPᵀ → dSᵀ
  const kbRow = pb + TB * <usize>T, mCol = kbRow + TB, lCol = mCol + TB, dCol = lCol + TB;
  const pitch = <usize>d << 2;
  const vscale = sp(scale);
  for (let u = u0; u < u1; u++) {
    const bh = u / nkb, j0 = (u - bh * nkb) * T;
    const cols = min(T, nk - j0), cols4 = (cols + 3) & ~3; // keys of this unit: the tile rows
    const keyBase = <usize>bh * <usize>nk + <usize>j0;
    packPanels(kp, k + keyBase * pitch, cols, d);
    packPanels(vp, v + keyBase * pitch, cols, d);
    const biasRow = bias == 0 ? 0 : at(bias, (bh / biasStride) * nk);
    for (let r = 0; r < cols4; r++) store<f32>(at(kbRow, r), biasRow != 0 ? load<f32>(at(biasRow, j0 + min(r, cols - 1))) : 0);
    zero(dkAcc, cols4 * d);
    zero(dvAcc, cols4 * d);
    const qBase = q + <usize>bh * <usize>n * pitch, doBase = dout + <usize>bh * <usize>n * pitch;
    for (let i0 = 0; i0 < n; i0 += T) {
      const rows = min(T, n - i0), rows8 = (rows + 7) & ~7; // queries: the tile columns
      packTransposed(qt, qBase + <usize>i0 * pitch, rows, d);
      packTransposed(dot_, doBase + <usize>i0 * pitch, rows, d);
      for (let i = 0; i < rows8; i++) {
        const row = bh * n + i0 + min(i, rows - 1);
        store<f32>(at(mCol, i), load<f32>(at(stats, row)));
        store<f32>(at(lCol, i), load<f32>(at(stats, BH * n + row)));
        store<f32>(at(dCol, i), load<f32>(at(delta, row)));
      }
      scores(sb, kp, cols4, qt, rows, d);  // Sᵀ = k·qᵀ   (same c order as q·kᵀ: same bits)
      scores(pb, vp, cols4, dot_, rows, d); // dPᵀ = v·doutᵀ
      for (let r = 0; r < cols4; r++) {
        const sr = at(sb, r * T), pr = at(pb, r * T);
        const vb = v128.load32_splat(at(kbRow, r));
        const idx = (<u64>bh * <u64>n + <u64>i0) * <u64>nk + <u64>(j0 + r); // element (bh, i0, j0 + r); queries step nk
        for (let i = 0; i < rows8; i += 4) {
          const s = add(mul(v128.load(at(sr, i)), vscale), vb);
          const p = expv(sub(sub(s, v128.load(at(mCol, i))), v128.load(at(lCol, i))));
          const dP = v128.load(at(pr, i));
          if (dropThreshold == 0) {
            v128.store(at(sr, i), p);
            v128.store(at(pr, i), mul(p, sub(dP, v128.load(at(dCol, i))))); // dSᵀ
          } else {
            const m = keep4(dropKey, idx + <u64>i * <u64>nk, <u64>nk, dropThreshold, dropScale);
            v128.store(at(sr, i), mul(p, m)); // (P ⊙ M)ᵀ for dv
            v128.store(at(pr, i), mul(p, sub(mul(dP, m), v128.load(at(dCol, i))))); // dSᵀ = Pᵀ ⊙ (dPᵀ ⊙ Mᵀ − D)
          }
        }
      }
      if (dv != 0) accumulate(dvAcc, sb, doBase + <usize>i0 * pitch, cols4, rows, d, 0); // dv += Pᵀ·dout
      if (dk != 0) accumulate(dkAcc, pb, qBase + <usize>i0 * pitch, cols4, rows, d, 0);  // dk += dSᵀ·q
    }
    if (dk != 0) storeRows(dk + keyBase * pitch, dkAcc, cols, d, scale);
    if (dv != 0) storeRows(dv + keyBase * pitch, dvAcc, cols, d, 1);
  }
}
