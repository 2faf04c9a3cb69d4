// Row gathers and their scatter-add gradients. Indices are i32 and validated by the caller.
// Gradients are deterministic: every dx element receives its contributions in increasing i
// (or j) order from exactly one thread.
import { shareStart } from './partition';

/** y[i, :] = x[idx[i], :] for i < numIdx; x is [*, rowLen]. Threads split i. */
export function takeRows(tid: i32, nt: i32, x: usize, idx: usize, y: usize, numIdx: i32, rowLen: i32): void {
  const i0 = shareStart(numIdx, tid, nt, 1), i1 = shareStart(numIdx, tid + 1, nt, 1);
  const bytes = <usize>rowLen << 2;
  for (let i = i0; i < i1; i++) {
    const src = <usize>load<i32>(idx + (<usize>i << 2));
    memory.copy(y + <usize>i * bytes, x + src * bytes, bytes);
  }
}

/** dx[idx[i], :] += dy[i, :] (dx pre-zeroed). Threads split the columns [0, rowLen) in groups of
 *  4; each scans all i in order, so repeated indices accumulate in a fixed order. */
export function takeRowsGrad(tid: i32, nt: i32, dy: usize, idx: usize, dx: usize, numIdx: i32, rowLen: i32): void {
  const c0 = shareStart(rowLen, tid, nt, 4), c1 = shareStart(rowLen, tid + 1, nt, 4);
  if (c0 >= c1) return;
  const bytes = <usize>rowLen << 2;
  for (let i = 0; i < numIdx; i++) {
    const dst = dx + <usize>load<i32>(idx + (<usize>i << 2)) * bytes;
    const src = dy + <usize>i * bytes;
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const o = <usize>c << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
    for (; c < c1; c++) {
      const o = <usize>c << 2;
      store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
    }
  }
}

/** y[r, j] = x[r, idx[r, j]]; x [rows, cols], idx and y [rows, k]. Threads split rows. */
export function gatherLast(tid: i32, nt: i32, x: usize, idx: usize, y: usize, rows: i32, cols: i32, k: i32): void {
  const r0 = shareStart(rows, tid, nt, 1), r1 = shareStart(rows, tid + 1, nt, 1);
  for (let r = r0; r < r1; r++) {
    const px = x + ((<usize>r * <usize>cols) << 2);
    const o = (<usize>r * <usize>k) << 2;
    for (let j = 0; j < k; j++) {
      const jo = o + (<usize>j << 2);
      store<i32>(y + jo, load<i32>(px + (<usize>load<i32>(idx + jo) << 2)));
    }
  }
}

/** dx[r, idx[r, j]] += dy[r, j] (dx pre-zeroed), j in increasing order. Threads split rows. */
export function gatherLastGrad(tid: i32, nt: i32, dy: usize, idx: usize, dx: usize, rows: i32, cols: i32, k: i32): void {
  const r0 = shareStart(rows, tid, nt, 1), r1 = shareStart(rows, tid + 1, nt, 1);
  for (let r = r0; r < r1; r++) {
    const pd = dx + ((<usize>r * <usize>cols) << 2);
    const o = (<usize>r * <usize>k) << 2;
    for (let j = 0; j < k; j++) {
      const jo = o + (<usize>j << 2);
      const p = pd + (<usize>load<i32>(idx + jo) << 2);
      store<f32>(p, load<f32>(p) + load<f32>(dy + jo));
    }
  }
}
