/**
 * Op codes of the kernels that switch on an op (unary, unaryGrad, binary, reduceRows), and the math
 * library's coefficients (MATH_F32), defined once: ops pass the codes, and scripts/build-kernels.mjs
 * generates the AssemblyScript constants (src/engine/kernels/op-codes.ts) from this file, so the
 * two sides cannot disagree. Plain data, no imports: the build script loads it on its own.
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

/**
 * The float32 coefficients of the kernels' math library (exp, log, tanh, erf, Φ, GELU): one table for
 * both kernel languages. scripts/op-codes.mjs writes them into the AssemblyScript constants, and the
 * WGSL shaders (backend/webgpu/kernels/elementwise.ts) declare them from here, so the CPU and the
 * GPU evaluate the same polynomials. Where each is used and why: src/engine/kernels/elementwise.ts.
 */
export const MATH_F32 = {
  LOG2E: 1.44269504,
  LN2_HI: 0.693145751953125,
  LN2_LO: 1.42860677e-6,
  ROUNDER: 12582912.0, // 1.5·2^23
  EP0: 0.49999994,
  EP1: 0.16666521,
  EP2: 0.04166839,
  EP3: 0.008368711,
  EP4: 0.0013814605,
  LR0: 0.6666682,
  LR1: 0.39973602,
  LR2: 0.29961288,
  TP0: -0.3333332,
  TP1: 0.13332601,
  TP2: -0.05385385,
  TP3: 0.02107774,
  TP4: -0.006282447,
  FP0: 0.12837917,
  FP1: -0.37612635,
  FP2: 0.11283715,
  FP3: -0.026860509,
  FP4: 0.005203859,
  FP5: -0.0008175637,
  FP6: 8.5130945e-05,
  Q0: -1.2655121,
  Q1: 0.9999997,
  Q2: 0.37501812,
  Q3: 0.08286598,
  Q4: -0.079767525,
  Q5: -0.19107755,
  Q6: 0.13243097,
  Q7: -0.6382331,
  Q8: 1.3459784,
  Q9: -1.0602018,
  Q10: 0.29898977,
  ERF_SPLIT: 0.9,
  SQRT1_2: 0.70710677,
  GELU_C: 0.044715,
  SQRT_2_PI: 0.7978846, // √(2/π)
  INV_SQRT_2PI: 0.3989423, // 1/√(2π)
  TWO_SQRT_PI: 1.1283792, // 2/√π
} as const;

/** The tables by the prefix of their generated AssemblyScript constants. */
export const OP_TABLES = { UNARY: UNARY_OPS, BINARY: BINARY_OPS, REDUCE: REDUCE_OPS } as const;

/** The AssemblyScript constant of an op: ('UNARY', 'geluTanh') → UNARY_GELU_TANH. */
export function kernelConstant(prefix: keyof typeof OP_TABLES, op: string): string {
  return `${prefix}_${op.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}
