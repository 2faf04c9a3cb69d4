// LayerNorm over the last axis, fused: one pass forward (statistics, normalisation and the affine
// part), one backward for dx; the parameters' gradients are column sums the ops take with reduceCols.
//   forward   mean, var over the row's cols (f64), rstd = 1/√(var + eps) rounded to f32,
//             y = (x − mean)·rstd·w + b (w, b optional: 0 addresses), stats[row] = (mean, rstd)
//   backward  x̂ = (x − mean)·rstd, g = dy·w (or dy), dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
//             and dyXhat = dy·x̂ where asked (w's gradient: its column sums)
// Rows are independent and sums run in order within a row, so results do not depend on nt.
import { shareStart } from './partition';

export function layerNormRows(tid: i32, nt: i32, x: usize, w: usize, b: usize, y: usize, stats: usize, rows: i32, cols: i32, eps: f32): void {
  const r1 = shareStart(rows, tid + 1, nt, 1);
  for (let r = shareStart(rows, tid, nt, 1); r < r1; r++) {
    const off = (<usize>r * <usize>cols) << 2;
    const px = x + off, py = y + off;
    let s: f64 = 0;
    for (let c = 0; c < cols; c++) s += <f64>load<f32>(px + (<usize>c << 2));
    const mean = <f32>(s / <f64>cols);
    let v: f64 = 0;
    for (let c = 0; c < cols; c++) {
      const d = <f64>(load<f32>(px + (<usize>c << 2)) - mean);
      v += d * d;
    }
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
    let sg: f64 = 0, sgx: f64 = 0;
    for (let c = 0; c < cols; c++) {
      const o = <usize>c << 2;
      const xhat = (load<f32>(x + off + o) - mean) * rstd;
      const g = w ? load<f32>(dy + off + o) * load<f32>(w + o) : load<f32>(dy + off + o);
      sg += <f64>g;
      sgx += <f64>g * <f64>xhat;
    }
    const a = <f32>(sg / <f64>cols), bx = <f32>(sgx / <f64>cols);
    for (let c = 0; c < cols; c++) {
      const o = <usize>c << 2;
      const xhat = (load<f32>(x + off + o) - mean) * rstd;
      const d = load<f32>(dy + off + o);
      const g = w ? d * load<f32>(w + o) : d;
      store<f32>(dx + off + o, rstd * (g - a - xhat * bx));
      if (dyXhat) store<f32>(dyXhat + off + o, d * xhat);
    }
  }
}
