import { shareStart } from './partition';

/**
 * y (read through desc: [rank, shape…, strides…]) ← x (contiguous): the inverse of copyStrided,
 * for writing into a slab of a larger tensor. Works for any 4-byte element.
 */
export function copyToStrided(tid: i32, nt: i32, x: usize, y: usize, n: i32, desc: usize): void {
  const rank = load<i32>(desc);
  const inner = load<i32>(desc + 4 * rank); // last dimension's size
  const innerStride = load<i32>(desc + 8 * rank);
  const rows = n / inner;
  const r0 = shareStart(rows, tid, nt, 1);
  const r1 = shareStart(rows, tid + 1, nt, 1);
  for (let r = r0; r < r1; r++) {
    // Offset of row r's first element: decompose r over the outer dimensions.
    let rem = r;
    let off: i32 = 0;
    for (let d = rank - 2; d >= 0; d--) {
      const size = load<i32>(desc + 4 * (1 + d));
      const stride = load<i32>(desc + 4 * (1 + rank + d));
      off += (rem % size) * stride;
      rem /= size;
    }
    const src = x + (<usize>r * <usize>inner << 2);
    const dst = y + (<usize>off << 2);
    if (innerStride == 1) memory.copy(dst, src, <usize>inner << 2);
    else for (let i = 0; i < inner; i++) store<u32>(dst + (<usize>(i * innerStride) << 2), load<u32>(src + (<usize>i << 2)));
  }
}
