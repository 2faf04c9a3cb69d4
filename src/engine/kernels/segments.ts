import { shareStart } from './partition';

// Landmark pooling (docs/algorithm.md §1.2, §1.7): m contiguous segments of the n rows of each of BH
// matrices [n, d]; with s = ⌊n/m⌋ the first (s+1)·m − n segments have s rows, the rest s+1.

// @inline
function segmentStart(j: i32, n: i32, m: i32): i32 {
  const s = n / m;
  const short = (s + 1) * m - n;
  return j <= short ? j * s : short * s + (j - short) * (s + 1);
}

/** y[bh, j, :] = mean of x[bh, rows of segment j, :]; x [BH, n, d], y [BH, m, d]. */
export function segmentMeans(tid: i32, nt: i32, x: usize, y: usize, bh: i32, n: i32, d: i32, m: i32): void {
  const units = bh * m;
  const u1 = shareStart(units, tid + 1, nt, 1);
  for (let u = shareStart(units, tid, nt, 1); u < u1; u++) {
    const b = u / m;
    const j = u % m;
    const r0 = segmentStart(j, n, m);
    const r1 = segmentStart(j + 1, n, m);
    const len = <f32>(r1 - r0);
    const out = y + ((<usize>u * <usize>d) << 2);
    const base = x + ((<usize>b * <usize>n * <usize>d) << 2);
    let c = 0;
    for (; c + 4 <= d; c += 4) {
      let acc = f32x4.splat(0);
      for (let r = r0; r < r1; r++) acc = f32x4.add(acc, v128.load(base + ((<usize>r * <usize>d + <usize>c) << 2)));
      v128.store(out + (<usize>c << 2), f32x4.div(acc, f32x4.splat(len)));
    }
    for (; c < d; c++) {
      let acc: f32 = 0;
      for (let r = r0; r < r1; r++) acc += load<f32>(base + ((<usize>r * <usize>d + <usize>c) << 2));
      store<f32>(out + (<usize>c << 2), acc / len);
    }
  }
}

/** dx[bh, i, :] = dy[bh, segment(i), :] / |segment(i)|: the adjoint of segmentMeans. */
export function segmentMeansGrad(tid: i32, nt: i32, dy: usize, dx: usize, acc: usize, bh: i32, n: i32, d: i32, m: i32): void {
  const units = bh * m;
  const u1 = shareStart(units, tid + 1, nt, 1);
  for (let u = shareStart(units, tid, nt, 1); u < u1; u++) {
    const b = u / m;
    const j = u % m;
    const r0 = segmentStart(j, n, m);
    const r1 = segmentStart(j + 1, n, m);
    const len = <f32>(r1 - r0);
    const g = dy + ((<usize>u * <usize>d) << 2);
    const base = (<usize>b * <usize>n * <usize>d) << 2;
    for (let r = r0; r < r1; r++) {
      const o = base + ((<usize>r * <usize>d) << 2);
      const row = dx + o, from = acc + o;
      let c = 0;
      for (; c + 4 <= d; c += 4) {
        const q = f32x4.div(v128.load(g + (<usize>c << 2)), f32x4.splat(len));
        v128.store(row + (<usize>c << 2), acc ? f32x4.add(v128.load(from + (<usize>c << 2)), q) : q);
      }
      for (; c < d; c++) {
        const q = load<f32>(g + (<usize>c << 2)) / len;
        store<f32>(row + (<usize>c << 2), acc ? load<f32>(from + (<usize>c << 2)) + q : q);
      }
    }
  }
}
