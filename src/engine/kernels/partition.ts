/** Start of thread tid's share of [0, n), in whole multiples of `grain`. */
// @inline
export function shareStart(n: i32, tid: i32, nt: i32, grain: i32): i32 {
  const blocks = (n + grain - 1) / grain;
  const s = <i32>((<i64>blocks * tid) / nt) * grain;
  return s < n ? s : n;
}
