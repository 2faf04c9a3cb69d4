// f32x4 → two f64x2, for sums kept in f64 (reduce.ts, layer-norm.ts). Not a kernel: index.ts does
// not export it.

/** Lanes 0, 1 as f64. */
// @ts-ignore: decorator
@inline export function lo64(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
/** Lanes 2, 3 as f64. */
// @ts-ignore: decorator
@inline export function hi64(v: v128): v128 { return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)); }
