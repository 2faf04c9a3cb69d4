// LayerNorm over the last axis, fused: one pass forward (statistics, normalisation and the affine
// part), one backward for dx; the parameters' gradients are column sums the ops take with reduceCols.
//   forward   mean, var over the row's cols (f64), rstd = 1/√(var + eps) rounded to f32,
//             y = (x − mean)·rstd·w + b (w, b optional: 0 addresses), stats[row] = (mean, rstd)
//   backward  x̂ = (x − mean)·rstd, g = dy·w (or dy), dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
//             and dyXhat = dy·x̂ where asked (w's gradient: its column sums)
// Rows are independent and each row's sums run in a fixed order (four f64 lanes: columns c ≡ 0, 1,
// 2, 3 mod 4, combined at the end), so results do not depend on nt. The sums are f64 so that their
// order barely matters: a row's sum of f32 values is exact unless its magnitudes span ~2^29.
import { shareStart } from './partition';
import { hi64, lo64 } from './widen';

/** Σ x[c] over cols in f64. */
function sum64(px: usize, cols: i32): f64 {
  let s0 = f64x2.splat(0), s1 = s0;
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    const v = v128.load(px + (<usize>c << 2));
    s0 = f64x2.add(s0, lo64(v));
    s1 = f64x2.add(s1, hi64(v));
  }
  let s = total(s0, s1);
  for (; c < cols; c++) s += <f64>load<f32>(px + (<usize>c << 2));
  return s;
}

/** Σ (x[c] − mean)² over cols, the difference in f32 and its square in f64. */
function sumSquares64(px: usize, cols: i32, mean: f32): f64 {
  const vm = f32x4.splat(mean);
  let s0 = f64x2.splat(0), s1 = s0;
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    const d = f32x4.sub(v128.load(px + (<usize>c << 2)), vm);
    const d0 = lo64(d), d1 = hi64(d);
    s0 = f64x2.add(s0, f64x2.mul(d0, d0));
    s1 = f64x2.add(s1, f64x2.mul(d1, d1));
  }
  let s = total(s0, s1);
  for (; c < cols; c++) {
    const d = <f64>(load<f32>(px + (<usize>c << 2)) - mean);
    s += d * d;
  }
  return s;
}

// @ts-ignore: decorator
@inline function total(s0: v128, s1: v128): f64 {
  return (f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s1, 0)) + (f64x2.extract_lane(s0, 1) + f64x2.extract_lane(s1, 1));
}

export function layerNormRows(tid: i32, nt: i32, x: usize, w: usize, b: usize, y: usize, stats: usize, rows: i32, cols: i32, eps: f32): void {
  const r1 = shareStart(rows, tid + 1, nt, 1);
  for (let r = shareStart(rows, tid, nt, 1); r < r1; r++) {
    const off = (<usize>r * <usize>cols) << 2;
    const px = x + off, py = y + off;
    const mean = <f32>(sum64(px, cols) / <f64>cols);
    const v = sumSquares64(px, cols, mean);
    const rstd = <f32>(1.0 / Math.sqrt(v / <f64>cols + <f64>eps));
    store<f32>(stats + (<usize>r << 3), mean);
    store<f32>(stats + (<usize>r << 3) + 4, rstd);
    const vm = f32x4.splat(mean), vr = f32x4.splat(rstd);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      let t = f32x4.mul(f32x4.sub(v128.load(px + o), vm), vr);
      if (w) t = f32x4.mul(t, v128.load(w + o));
      if (b) t = f32x4.add(t, v128.load(b + o));
      v128.store(py + o, t);
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      let t = (load<f32>(px + o) - mean) * rstd;
      if (w) t *= load<f32>(w + o);
      if (b) t += load<f32>(b + o);
      store<f32>(py + o, t);
    }
  }
}

export function layerNormRowsGrad(tid: i32, nt: i32, x: usize, w: usize, stats: usize, dy: usize, dx: usize, dyXhat: usize, rows: i32, cols: i32): void {
  const r1 = shareStart(rows, tid + 1, nt, 1);
  for (let r = shareStart(rows, tid, nt, 1); r < r1; r++) {
    const off = (<usize>r * <usize>cols) << 2;
    const mean = load<f32>(stats + (<usize>r << 3));
    const rstd = load<f32>(stats + (<usize>r << 3) + 4);
    const px = x + off, pd = dy + off, po = dx + off;
    const vm = f32x4.splat(mean), vr = f32x4.splat(rstd);
    // Σ g and Σ g·x̂ in f64 (four lanes, as the forward's sums)
    let g0 = f64x2.splat(0), g1 = g0, h0 = g0, h1 = g0;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(px + o), vm), vr);
      const g = w ? f32x4.mul(v128.load(pd + o), v128.load(w + o)) : v128.load(pd + o);
      const gl = lo64(g), gh = hi64(g);
      g0 = f64x2.add(g0, gl);
      g1 = f64x2.add(g1, gh);
      h0 = f64x2.add(h0, f64x2.mul(gl, lo64(xhat)));
      h1 = f64x2.add(h1, f64x2.mul(gh, hi64(xhat)));
    }
    let sg = total(g0, g1), sgx = total(h0, h1);
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      const xhat = (load<f32>(px + o) - mean) * rstd;
      const g = w ? load<f32>(pd + o) * load<f32>(w + o) : load<f32>(pd + o);
      sg += <f64>g;
      sgx += <f64>g * <f64>xhat;
    }
    const a = <f32>(sg / <f64>cols), bx = <f32>(sgx / <f64>cols);
    const va = f32x4.splat(a), vb = f32x4.splat(bx);
    c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(px + o), vm), vr);
      const d = v128.load(pd + o);
      const g = w ? f32x4.mul(d, v128.load(w + o)) : d;
      v128.store(po + o, f32x4.mul(vr, f32x4.sub(f32x4.sub(g, va), f32x4.mul(xhat, vb))));
      if (dyXhat) v128.store(dyXhat + off + o, f32x4.mul(d, xhat));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      const xhat = (load<f32>(px + o) - mean) * rstd;
      const d = load<f32>(pd + o);
      const g = w ? d * load<f32>(w + o) : d;
      store<f32>(po + o, rstd * (g - a - xhat * bx));
      if (dyXhat) store<f32>(dyXhat + off + o, d * xhat);
    }
  }
}
