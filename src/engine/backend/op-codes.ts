/**
 * Op codes of the kernels that switch on an op (unary, unaryGrad, binary, reduceRows), defined
 * once: ops pass them, and scripts/build-kernels.mjs generates the AssemblyScript constants
 * (src/engine/kernels/op-codes.ts) from this file, so the two sides cannot disagree. Plain data,
 * no imports: the build script loads it on its own.
 */
export const UNARY_OPS = {
  neg: 0, exp: 1, log: 2, sqrt: 3, rsqrt: 4, tanh: 5, relu: 6, gelu: 7, geluTanh: 8, sigmoid: 9,
  addScalar: 10, mulScalar: 11, powScalar: 12, abs: 13, square: 14, erf: 15, reciprocal: 16, step: 17,
} as const;

/**
 * How each unary op's backward is formed, so the TS op and the kernel agree on one list:
 * 'kernel': dx = dy·f′(x) by the unaryGrad kernel, the one place the derivative formulas live
 * (src/engine/kernels/elementwise.ts, ugrad); 'none': f′ is zero almost everywhere, nothing recorded.
 * test/unary-gradients.test checks every entry: a kernel case for each op, and a finite-difference
 * check of each 'kernel' derivative.
 */
export const UNARY_GRADIENT: { readonly [op in UnaryOp]: 'kernel' | 'none' } = {
  neg: 'kernel', exp: 'kernel', log: 'kernel', sqrt: 'kernel', rsqrt: 'kernel', tanh: 'kernel', relu: 'kernel',
  gelu: 'kernel', geluTanh: 'kernel', sigmoid: 'kernel', addScalar: 'kernel', mulScalar: 'kernel',
  powScalar: 'kernel', abs: 'kernel', square: 'kernel', erf: 'kernel', reciprocal: 'kernel', step: 'none',
};

export const BINARY_OPS = {
  add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, eq: 6, gt: 7, ge: 8, lt: 9, pow: 10,
} as const;

export const REDUCE_OPS = { sum: 0, max: 1, min: 2 } as const;

export type UnaryOp = keyof typeof UNARY_OPS;
export type BinaryOp = keyof typeof BINARY_OPS;
export type ReduceOp = keyof typeof REDUCE_OPS;

/** The tables by the prefix of their generated AssemblyScript constants. */
export const OP_TABLES = { UNARY: UNARY_OPS, BINARY: BINARY_OPS, REDUCE: REDUCE_OPS } as const;

/** The AssemblyScript constant of an op: ('UNARY', 'geluTanh') → UNARY_GELU_TANH. */
export function kernelConstant(prefix: keyof typeof OP_TABLES, op: string): string {
  return `${prefix}_${op.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}
