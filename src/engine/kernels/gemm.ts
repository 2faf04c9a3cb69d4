// Single-precision GEMM:  C[b] = alpha * A[b]·B[b] + beta * C[b] (+ bias)   for b in [0, batch)
//   A[b] : m×k, element (i,p) at a + 4*(b*aBatchStride + i*aRowStride + p*aColStride)
//   B[b] : k×n, element (p,j) at b + 4*(b*bBatchStride + p*bRowStride + j*bColStride)
//   C[b] : m×n, element (i,j) at c + 4*(b*cBatchStride + i*ldc + j)
// Structure (GotoBLAS/BLIS): the K dimension is cut into KC blocks, B into KC×NC blocks packed as
// NR-wide column panels, A into MC×KC blocks of MR-tall row panels (packed, or read in place when
// row-major), and an MR×NR register tile of f32x4 accumulators (the micro-kernel) sweeps one A
// panel against one B panel.
// Threads split the output into tiles (never K), and K blocking depends only on k, so every C
// element is computed by exactly the same sequence of operations whatever nt is.
// bias (a row vector of n, or 0 for none) is added to each C row last, once the final K block is
// in: the same bits as the product followed by a separate add.
import { shareStart } from './partition';

// Micro-tile 4×8 = 8 f32x4 accumulators. Measured (Node 20, this machine, 1 thread): 4×8, 3×12
// and 2×16 all reach ~48 GFLOP/s with FMA (≈2 f32x4 FMA/cycle, the port limit); 6×8, 5×8 and 4×12
// drop to ~20-25, presumably register spills (V8 allocates at most 15-16 xmm registers to wasm).
// Without FMA (mul+add) 4×8 gives ~40.
const MR: i32 = 4;
const NR: i32 = 8;
// Cache blocking: a KC×NR B micro-panel (8 KiB) stays in L1, the MC×KC packed A block
// (~96 KiB) in L2, the KC×NC packed B block (≤ 2 MiB) in L2/L3.
const KC: i32 = 256;
const MC: i32 = 96; // multiple of MR
const NC: i32 = 2048; // multiple of NR

// @inline
function fma(a: v128, b: v128, c: v128): v128 {
  // a*b + c; relaxed_madd may fuse (one rounding) — deterministic within one build.
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  else return f32x4.add(f32x4.mul(a, b), c);
}

// mode 0: C = alpha*acc   (first K block, beta == 0: old C never read, may hold NaN)
// mode 1: C = alpha*acc + beta*C   (first K block)
// mode 2: C = alpha*acc + C        (later K blocks accumulate)
// Then + bias where bias ≠ 0 (bp: the bias of these four columns).
// Scalar tail code (mergeTile) repeats exactly these per-lane operations.
// @inline
function put(p: usize, acc: v128, va: v128, vb: v128, mode: i32, bias: usize, bp: usize): void {
  let r = f32x4.mul(va, acc);
  if (mode == 1) r = f32x4.add(r, f32x4.mul(vb, v128.load(p)));
  else if (mode == 2) r = f32x4.add(r, v128.load(p));
  if (bias) r = f32x4.add(r, v128.load(bp));
  v128.store(p, r);
}

// 4×8 tile over kc steps. ap: four rows of A, rs bytes apart, each step cs bytes further (a packed
// panel [kc][4]: rs 4, cs 16; A in place: its own strides), bp: packed B panel [kc][8], c: C tile,
// row stride ldc bytes, bias: the tile's 8 bias values (or 0). Per k step: 2 B vectors, 4
// broadcast A values, 8 FMAs.
function micro(kc: i32, ap: usize, rs: usize, cs: usize, bp: usize, c: usize, ldc: usize, alpha: f32, beta: f32, mode: i32, bias: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const rs2 = rs << 1, rs3 = rs2 + rs;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = fma(a, b0, c00); c01 = fma(a, b1, c01);
    a = v128.load32_splat(ap + rs);
    c10 = fma(a, b0, c10); c11 = fma(a, b1, c11);
    a = v128.load32_splat(ap + rs2);
    c20 = fma(a, b0, c20); c21 = fma(a, b1, c21);
    a = v128.load32_splat(ap + rs3);
    c30 = fma(a, b0, c30); c31 = fma(a, b1, c31);
    ap += cs; bp += 32;
  }
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  const b1 = bias + 16;
  put(c, c00, va, vb, mode, bias, bias); put(c + 16, c01, va, vb, mode, bias, b1); c += ldc;
  put(c, c10, va, vb, mode, bias, bias); put(c + 16, c11, va, vb, mode, bias, b1); c += ldc;
  put(c, c20, va, vb, mode, bias, bias); put(c + 16, c21, va, vb, mode, bias, b1); c += ldc;
  put(c, c30, va, vb, mode, bias, bias); put(c + 16, c31, va, vb, mode, bias, b1);
}

// Edge tile: the micro-kernel stored raw sums (alpha=1, mode 0) in tile [MR][NR]; apply the
// same per-element formula as put() to the rows×cols corner that exists in C.
function mergeTile(tile: usize, c: usize, ldc: usize, rows: i32, cols: i32, alpha: f32, beta: f32, mode: i32, bias: usize): void {
  for (let i = 0; i < rows; i++) {
    const t = tile + <usize>(i * NR * 4), ci = c + <usize>i * ldc;
    for (let j = 0; j < cols; j++) {
      const q = ci + <usize>(j << 2);
      let r = alpha * load<f32>(t + <usize>(j << 2));
      if (mode == 1) r = r + beta * load<f32>(q);
      else if (mode == 2) r = r + load<f32>(q);
      if (bias) r = r + load<f32>(bias + <usize>(j << 2));
      store<f32>(q, r);
    }
  }
}

// 4×4 transpose: four 4-float runs s0..s3 (e.g. 4 rows, 4 consecutive p each) become four
// 4-float vectors d[q] = (s0[q], s1[q], s2[q], s3[q]) stored dstStride bytes apart.
// @inline
function transpose4(d: usize, dstStride: usize, s0: usize, s1: usize, s2: usize, s3: usize): void {
  const r0 = v128.load(s0), r1 = v128.load(s1), r2 = v128.load(s2), r3 = v128.load(s3);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(d + dstStride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(d + dstStride * 2, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(d + dstStride * 3, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

// Pack rows×kc of A (byte strides rs, cs) into MR-row panels: dst[panel][p][i], rows past the
// edge zero-filled (they only feed C rows that are never written). MR == 4 is assumed by the
// vector fast paths.
function packA(dst: usize, a: usize, rs: usize, cs: usize, rows: i32, kc: i32): void {
  for (let i0 = 0; i0 < rows; i0 += MR) {
    const h = min(MR, rows - i0);
    const src = a + <usize>i0 * rs;
    let p = 0;
    if (h == MR && cs == 4) {
      // row-major A: 4 rows × 4 p at a time, transposed in registers
      for (; p + 4 <= kc; p += 4) {
        const s = src + <usize>(p << 2);
        transpose4(dst + <usize>(p * MR << 2), MR << 2, s, s + rs, s + rs * 2, s + rs * 3);
      }
    } else if (h == MR && rs == 4) {
      // column-major A (transposed operand): a panel column is one vector
      for (; p < kc; p++) v128.store(dst + <usize>(p * MR << 2), v128.load(src + <usize>p * cs));
    }
    for (; p < kc; p++) {
      const s = src + <usize>p * cs, d = dst + <usize>(p * MR << 2);
      for (let i = 0; i < MR; i++) store<f32>(d + <usize>(i << 2), i < h ? load<f32>(s + <usize>i * rs) : 0);
    }
    dst += <usize>(MR * kc << 2);
  }
}

// Pack kc×cols of B into NR-column panels: dst[panel][p][j], columns past the edge zero-filled.
function packB(dst: usize, b: usize, rs: usize, cs: usize, kc: i32, cols: i32): void {
  for (let j0 = 0; j0 < cols; j0 += NR) {
    const w = min(NR, cols - j0);
    const src = b + <usize>j0 * cs;
    let p = 0;
    if (w == NR && cs == 4) {
      // row-major B: 8 contiguous floats per k step
      for (; p < kc; p++) {
        const s = src + <usize>p * rs, d = dst + <usize>(p * NR << 2);
        v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
      }
    } else if (w == NR && rs == 4) {
      // column-major B (transposed operand): 4 p × 4 columns transposed at a time, two halves
      for (; p + 4 <= kc; p += 4) {
        const s = src + <usize>(p << 2), d = dst + <usize>(p * NR << 2);
        transpose4(d, NR << 2, s, s + cs, s + cs * 2, s + cs * 3);
        const s4 = s + cs * 4;
        transpose4(d + 16, NR << 2, s4, s4 + cs, s4 + cs * 2, s4 + cs * 3);
      }
    }
    for (; p < kc; p++) {
      const s = src + <usize>p * rs, d = dst + <usize>(p * NR << 2);
      for (let j = 0; j < NR; j++) store<f32>(d + <usize>(j << 2), j < w ? load<f32>(s + <usize>j * cs) : 0);
    }
    dst += <usize>(NR * kc << 2);
  }
}

// ---- m < MR (e.g. a single row times a matrix): packing would waste 3/4 of each tile and copy
// all of B to use it once, so B is read in place. Only one K pass, so only put() modes 0/1.

// C[i, j0:j1] = alpha * A[i,:]·B[:, j0:j1] (+ beta*C) for row-major B (unit column stride):
// 32 columns (8 accumulators) per pass, then 4, then single columns. Every column gets the
// same per-lane fma chain over p whichever pass handles it, so thread chunking cannot change bits.
function rowTimesB(k: i32, a: usize, acs: usize, b: usize, brs: usize, c: usize, j0: i32, j1: i32,
  alpha: f32, beta: f32, mode: i32, bias: usize): void {
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  let j = j0;
  for (; j + 32 <= j1; j += 32) {
    let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    let ap = a, bp = b + <usize>(j << 2);
    for (let p = 0; p < k; p++) {
      const x = v128.load32_splat(ap);
      s0 = fma(x, v128.load(bp), s0); s1 = fma(x, v128.load(bp, 16), s1);
      s2 = fma(x, v128.load(bp, 32), s2); s3 = fma(x, v128.load(bp, 48), s3);
      s4 = fma(x, v128.load(bp, 64), s4); s5 = fma(x, v128.load(bp, 80), s5);
      s6 = fma(x, v128.load(bp, 96), s6); s7 = fma(x, v128.load(bp, 112), s7);
      ap += acs; bp += brs;
    }
    const q = c + <usize>(j << 2), bq = bias + <usize>(j << 2);
    put(q, s0, va, vb, mode, bias, bq); put(q + 16, s1, va, vb, mode, bias, bq + 16);
    put(q + 32, s2, va, vb, mode, bias, bq + 32); put(q + 48, s3, va, vb, mode, bias, bq + 48);
    put(q + 64, s4, va, vb, mode, bias, bq + 64); put(q + 80, s5, va, vb, mode, bias, bq + 80);
    put(q + 96, s6, va, vb, mode, bias, bq + 96); put(q + 112, s7, va, vb, mode, bias, bq + 112);
  }
  for (; j + 4 <= j1; j += 4) {
    let s0 = f32x4.splat(0), ap = a, bp = b + <usize>(j << 2);
    for (let p = 0; p < k; p++) { s0 = fma(v128.load32_splat(ap), v128.load(bp), s0); ap += acs; bp += brs; }
    put(c + <usize>(j << 2), s0, va, vb, mode, bias, bias + <usize>(j << 2));
  }
  for (; j < j1; j++) {
    // one column in lane 0 of a vector: same arithmetic as the lanes above
    let s0 = f32x4.splat(0), ap = a, bp = b + <usize>(j << 2);
    for (let p = 0; p < k; p++) { s0 = fma(v128.load32_splat(ap), v128.load32_splat(bp), s0); ap += acs; bp += brs; }
    const q = c + <usize>(j << 2);
    let r = alpha * f32x4.extract_lane(s0, 0);
    if (mode == 1) r = r + beta * load<f32>(q);
    if (bias) r = r + load<f32>(bias + <usize>(j << 2));
    store<f32>(q, r);
  }
}

// Sum over p of A[i,p]*B[p,j] as 8 lane-parallel partial sums (two f32x4 chains per column),
// reduced in a fixed order, plus a scalar tail for k % 8. Both A row and B column contiguous.
// @inline
function hsum(x: v128, y: v128): f32 {
  const s = f32x4.add(x, y);
  return (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
}

// @inline
function dotTail(k8: i32, k: i32, a: usize, b: usize, s: f32): f32 {
  for (let p = k8; p < k; p++) s = s + load<f32>(a + <usize>(p << 2)) * load<f32>(b + <usize>(p << 2));
  return s;
}

// C[i, j0:j1] for B with unit row stride (B = Wᵀ of a row-major W: y = x·Wᵀ), A row contiguous.
// Four columns share each A load; a lone column repeats exactly the same per-column operations.
function rowDotB(k: i32, a: usize, b: usize, bcs: usize, c: usize, j0: i32, j1: i32,
  alpha: f32, beta: f32, mode: i32, bias: usize): void {
  const k8 = k & ~7;
  let j = j0;
  for (; j < j1; ) {
    const four = j + 4 <= j1;
    const b0 = b + <usize>j * bcs, b1 = four ? b0 + bcs : b0, b2 = four ? b1 + bcs : b0, b3 = four ? b2 + bcs : b0;
    let x0 = f32x4.splat(0), y0 = x0, x1 = x0, y1 = x0, x2 = x0, y2 = x0, x3 = x0, y3 = x0;
    for (let p = 0; p < k8; p += 8) {
      const o = <usize>(p << 2);
      const u = v128.load(a + o), v = v128.load(a + o, 16);
      x0 = fma(u, v128.load(b0 + o), x0); y0 = fma(v, v128.load(b0 + o, 16), y0);
      x1 = fma(u, v128.load(b1 + o), x1); y1 = fma(v, v128.load(b1 + o, 16), y1);
      x2 = fma(u, v128.load(b2 + o), x2); y2 = fma(v, v128.load(b2 + o, 16), y2);
      x3 = fma(u, v128.load(b3 + o), x3); y3 = fma(v, v128.load(b3 + o, 16), y3);
    }
    const cnt = four ? 4 : 1;
    for (let q = 0; q < cnt; q++) {
      const s = q == 0 ? hsum(x0, y0) : q == 1 ? hsum(x1, y1) : q == 2 ? hsum(x2, y2) : hsum(x3, y3);
      const cq = c + <usize>((j + q) << 2);
      let r = alpha * dotTail(k8, k, a, b0 + <usize>q * bcs, s);
      if (mode == 1) r = r + beta * load<f32>(cq);
      if (bias) r = r + load<f32>(bias + <usize>((j + q) << 2));
      store<f32>(cq, r);
    }
    j += cnt;
  }
}

// K block size: depends on k only (bit-identical across nt); blocks of nearly equal size.
// @inline
function kcBlock(k: i32): i32 {
  const nb = (k + KC - 1) / KC;
  return (k + nb - 1) / nb;
}

// @inline
function roundUp(x: i32, r: i32): i32 {
  return (x + r - 1) / r * r;
}

/** Scratch bytes one thread needs: packed A block, packed B block, one edge tile, 64 B alignment slack. */
export function gemmWorkBytes(m: i32, n: i32, k: i32): i32 {
  const kc = k > 0 ? kcBlock(k) : 1;
  const mc = roundUp(min(max(m, 1), MC), MR), nc = roundUp(min(max(n, 1), NC), NR);
  return roundUp((mc * kc + kc * nc + MR * NR) * 4 + 64, 64);
}

// One output rectangle C[i0:i1, j0:j1] of one batch, by one thread.
function rect(
  m0: i32, m1: i32, n0: i32, n1: i32, k: i32,
  a: usize, ars: usize, acs: usize, b: usize, brs: usize, bcs: usize, c: usize, ldc: usize,
  alpha: f32, beta: f32, bias: usize, ap: usize, bp: usize, tile: usize, small: bool,
): void {
  if (k == 0 || alpha == 0) {
    // C = beta*C (+ bias) (BLAS convention: A·B not evaluated, so NaN/Inf in A or B do not leak in)
    for (let i = m0; i < m1; i++) {
      const ci = c + <usize>i * ldc;
      for (let j = n0; j < n1; j++) {
        const q = ci + <usize>(j << 2);
        let r: f32 = beta == 0 ? 0 : beta * load<f32>(q);
        if (bias) r = r + load<f32>(bias + <usize>(j << 2));
        store<f32>(q, r);
      }
    }
    return;
  }
  if (small) {
    const mode = beta == 0 ? 0 : 1;
    for (let i = m0; i < m1; i++) {
      const ai = a + <usize>i * ars, ci = c + <usize>i * ldc;
      if (bcs == 4) rowTimesB(k, ai, acs, b, brs, ci, n0, n1, alpha, beta, mode, bias);
      else rowDotB(k, ai, b, bcs, ci, n0, n1, alpha, beta, mode, bias);
    }
    return;
  }
  const kcb = kcBlock(k);
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < k; pc += kcb) {
      const kc = min(kcb, k - pc);
      packB(bp, b + <usize>pc * brs + <usize>jc * bcs, brs, bcs, kc, nc);
      const mode = pc > 0 ? 2 : beta == 0 ? 0 : 1;
      const kBias = pc + kc >= k ? bias : 0; // with the last K block
      for (let ic = m0; ic < m1; ic += MC) {
        const mc = min(MC, m1 - ic);
        // Row-major A is read in place (four rows streamed side by side: the same sums, without
        // the packing pass); other layouts, and a last panel of fewer than MR rows, are packed
        // (a transposed A read in place would touch a new cache line every k step).
        const direct = acs == 4 ? mc & ~(MR - 1) : 0;
        const a0 = a + <usize>ic * ars + <usize>pc * acs;
        if (direct < mc) packA(ap, a0 + <usize>direct * ars, ars, acs, mc - direct, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const w = min(NR, nc - jr);
          const bpp = bp + <usize>(jr * kc << 2);
          let cp = c + <usize>ic * ldc + <usize>((jc + jr) << 2);
          const bj = kBias ? kBias + <usize>((jc + jr) << 2) : 0;
          for (let ir = 0; ir < mc; ir += MR) {
            const h = min(MR, mc - ir);
            const inPlace = ir < direct;
            const app = inPlace ? a0 + <usize>ir * ars : ap + <usize>((ir - direct) * kc << 2);
            const rs: usize = inPlace ? ars : 4, cs: usize = inPlace ? acs : MR << 2;
            if (h == MR && w == NR) {
              micro(kc, app, rs, cs, bpp, cp, ldc, alpha, beta, mode, bj);
            } else {
              micro(kc, app, rs, cs, bpp, tile, <usize>(NR << 2), 1, 0, 0, 0);
              mergeTile(tile, cp, ldc, h, w, alpha, beta, mode, bj);
            }
            cp += <usize>MR * ldc;
          }
        }
      }
    }
  }
}

/**
 * C = alpha·A·B + beta·C (+ bias, a row of n, when bias ≠ 0) over a batch; thread tid of nt
 * does its share of output tiles.
 * Strides in float32 elements (batch stride 0 broadcasts); pointers are byte offsets.
 * Work units are MR-row blocks of C, ordered (column chunk, batch, row block); when there are
 * fewer than 4·nt row blocks, N is also cut into NR-multiple chunks so all threads get work.
 */
export function gemm(
  tid: i32, nt: i32,
  batch: i32, m: i32, n: i32, k: i32,
  a: usize, aBatchStride: i32, aRowStride: i32, aColStride: i32,
  b: usize, bBatchStride: i32, bRowStride: i32, bColStride: i32,
  c: usize, cBatchStride: i32, ldc: i32,
  alpha: f32, beta: f32, bias: usize,
  work: usize, workBytesPerThread: i32,
): void {
  if (batch <= 0 || m <= 0 || n <= 0) return;
  // scratch: [packed A: MC×KC][packed B: KC×NC][tile: MR×NR], 64-byte aligned start
  const w0 = (work + <usize>tid * <usize>workBytesPerThread + 63) & ~<usize>63;
  const kc = k > 0 ? kcBlock(k) : 1;
  const ap = w0;
  const bp = ap + <usize>(roundUp(min(m, MC), MR) * kc << 2);
  const tile = bp + <usize>(kc * roundUp(min(n, NC), NR) << 2);

  const rb = (m + MR - 1) / MR;      // row blocks per batch
  const rUnits = batch * rb;
  let cw = roundUp(n, NR);           // column chunk width
  if (rUnits < 4 * nt) {
    const want = (4 * nt + rUnits - 1) / rUnits;
    cw = roundUp((n + want - 1) / want, NR);
  }
  const cp = (n + cw - 1) / cw;
  const u1 = shareStart(cp * rUnits, tid + 1, nt, 1);
  let u = shareStart(cp * rUnits, tid, nt, 1);
  const ldcB = <usize>ldc << 2;
  // unpacked path for m < MR: decided from the whole problem, never from a thread's share
  const small = m < MR && (bColStride == 1 || (bRowStride == 1 && aColStride == 1));
  while (u < u1) {
    const ci = u / rUnits, rem = u - ci * rUnits;
    const bi = rem / rb, r0 = rem - bi * rb;
    const r1 = min(rb, r0 + (u1 - u));
    const bu = <usize>bi;
    rect(
      r0 * MR, min(r1 * MR, m), ci * cw, min(ci * cw + cw, n), k,
      a + ((bu * <usize>aBatchStride) << 2), <usize>aRowStride << 2, <usize>aColStride << 2,
      b + ((bu * <usize>bBatchStride) << 2), <usize>bRowStride << 2, <usize>bColStride << 2,
      c + ((bu * <usize>cBatchStride) << 2), ldcB,
      alpha, beta, bias, ap, bp, tile, small,
    );
    u += r1 - r0;
  }
}
