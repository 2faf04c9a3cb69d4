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

export const BINARY_OPS = {
  add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, eq: 6, gt: 7, ge: 8, lt: 9, pow: 10,
} as const;

export const REDUCE_OPS = { sum: 0, max: 1, min: 2 } as const;

export type UnaryOp = keyof typeof UNARY_OPS;
export type BinaryOp = keyof typeof BINARY_OPS;
export type ReduceOp = keyof typeof REDUCE_OPS;

/** Prefixes of the generated AssemblyScript constants, e.g. UNARY_GELU_TANH. */
export const OP_TABLES = { UNARY: UNARY_OPS, BINARY: BINARY_OPS, REDUCE: REDUCE_OPS } as const;
