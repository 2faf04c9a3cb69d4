/**
 * Test helpers: closeness assertions that report the worst element, a seeded PRNG, engine ↔
 * reference conversion, and a finite-difference gradient check of engine ops against the
 * float64 reference.
 */
import assert from 'node:assert/strict';
import { contiguous, gradients, noGrad, Tensor, tidy } from '../src/engine/index.js';
import { NDArray, nd, sizeOf, unravel } from './reference.js';

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

type Numbers = ArrayLike<number>;

/**
 * |actual − expected| ≤ atol + rtol·|expected| elementwise; NaN matches NaN and ±∞ match
 * themselves. On failure the message names the worst element and its index.
 */
export function assertClose(actual: Numbers | NDArray, expected: Numbers | NDArray, tol: Tolerance = {}, message = ''): void {
  const { rtol = 1e-5, atol = 1e-6 } = tol;
  const a = 'data' in actual ? actual.data : actual;
  const e = 'data' in expected ? expected.data : expected;
  const shape = 'shape' in expected ? expected.shape : [e.length];
  assert.equal(a.length, e.length, `${message}: ${a.length} values, expected ${e.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < e.length; i++) {
    const x = a[i];
    const y = e[i];
    let excess: number;
    if (Number.isNaN(y) || Number.isNaN(x)) excess = Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity;
    else if (!Number.isFinite(y) || !Number.isFinite(x)) excess = x === y ? 0 : Infinity;
    else excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (excess > 0 && (worst < 0 || excess > worstExcess)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    const at = shape.length ? `[${unravel(worst, shape).join(', ')}]` : '[]';
    assert.fail(
      `${message}: element ${at} is ${a[worst]}, expected ${e[worst]} ` +
      `(|diff| ${Math.abs(a[worst] - e[worst]).toExponential(3)}, allowed ${(atol + rtol * Math.abs(e[worst])).toExponential(3)})`,
    );
  }
}

/** Max |x| over the finite elements (at least `floor`). */
export function maxAbs(x: Numbers, floor = 0): number {
  let m = floor;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) m = Math.max(m, Math.abs(x[i]));
  return m;
}

/** assertClose with atol = tol·max|expected|: errors judged against the array's scale. */
export function assertCloseScaled(actual: Numbers | NDArray, expected: Numbers | NDArray, tol: number, message = ''): void {
  const e = 'data' in expected ? expected.data : expected;
  assertClose(actual, expected, { rtol: 0, atol: tol * maxAbs(e, 1e-30) }, message);
}

/** True when the two arrays hold bit-identical float32 values (NaN payloads aside). */
export function assertBitIdentical(a: Float32Array, b: Float32Array, message: string): void {
  assert.equal(a.length, b.length, `${message}: lengths differ`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
      assert.fail(`${message}: element ${i} differs: ${a[i]} vs ${b[i]}`);
    }
  }
}

// ---------- random numbers ----------

import { Rng } from './rng.js';
import { readTensors, readValues } from './read-values.js';

export { Rng };

// ---------- engine ↔ reference ----------

export function toTensor(x: NDArray, dtype: 'float32' | 'int32' = 'float32'): Tensor {
  const data = dtype === 'float32' ? Float32Array.from(x.data) : Int32Array.from(x.data);
  return Tensor.from(data, x.shape, dtype);
}

/** The values of any tensor (views included), as a float64 NDArray. */
export function toND(t: Tensor): NDArray {
  return tidy(() => {
    const c = t.isContiguous ? t : noGrad(() => contiguous(t));
    return { shape: [...t.shape], data: Float64Array.from(c.toArray()) };
  });
}

export { readTensors, readValues };

/** readTensors as float64 NDArrays of the tensors' shapes. */
async function readNDs(ts: readonly Tensor[]): Promise<NDArray[]> {
  const shapes = ts.map((t) => [...t.shape]);
  return (await readTensors(ts)).map((v, k) => ({ shape: shapes[k], data: Float64Array.from(v) }));
}

/** The float32 values of any tensor (views included). */
export function values(t: Tensor): Float32Array {
  return tidy(() => {
    const c = t.isContiguous ? t : noGrad(() => contiguous(t));
    return Float32Array.from(c.toArray());
  });
}

// ---------- gradient check ----------

export interface GradCheckOptions {
  /** Gradient tolerance relative to max |expected gradient| (default 1e-3). */
  tol?: number;
  /** Forward tolerance relative to max |expected output| (default 1e-5). */
  forwardTol?: number;
  /** Indices of inputs passed as int32 tensors (never differentiated). */
  int32?: readonly number[];
  /** Indices of float inputs not differentiated. */
  constant?: readonly number[];
  /** Cotangent seed. */
  seed?: number;
}

/**
 * Checks engineFn's forward against referenceFn, and its VJP (via `gradients`, with a random
 * cotangent c) against central finite differences of Σ referenceFn(inputs)·c in float64.
 * Inputs should hold float32-representable values so both sides see the same numbers.
 */
export async function gradCheck(
  name: string,
  engineFn: (...xs: Tensor[]) => Tensor,
  referenceFn: (...xs: NDArray[]) => NDArray,
  inputs: readonly NDArray[],
  options: GradCheckOptions = {},
): Promise<void> {
  const { tol = 1e-3, forwardTol = 1e-5, int32 = [], constant = [], seed = 1234 } = options;
  const wrt = inputs.map((_, i) => i).filter((i) => !int32.includes(i) && !constant.includes(i));
  const expected = referenceFn(...inputs);
  const rng = new Rng(seed);
  const cot = rng.randn(expected.shape);

  const results = tidy(() => {
    const ts = inputs.map((x, i) => toTensor(x, int32.includes(i) ? 'int32' : 'float32'));
    for (const i of wrt) ts[i].requiresGrad = true;
    const y = engineFn(...ts);
    assert.deepEqual([...y.shape], expected.shape, `${name}: output shape`);
    const gs = gradients([y], wrt.map((i) => ts[i]), [toTensor(cot)]);
    gs.forEach((g, j) => assert.deepEqual([...g.shape], inputs[wrt[j]].shape, `${name}: gradient shape for input ${wrt[j]}`));
    return [y, ...gs];
  });
  // Read asynchronously: the same check runs on backends without synchronous reads (WebGPU).
  const [out, ...grads] = await readNDs(results);
  assertCloseScaled(out, expected, forwardTol, `${name}: forward`);

  const objective = (xs: NDArray[]): number => {
    const y = referenceFn(...xs);
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += y.data[i] * cot.data[i];
    return s;
  };
  wrt.forEach((i, j) => {
    const x = inputs[i];
    const fd = nd(x.shape);
    for (let e = 0; e < x.data.length; e++) {
      const v = x.data[e];
      const h = 1e-5 * Math.max(1, Math.abs(v));
      const plus = { shape: x.shape, data: x.data.slice() };
      const minus = { shape: x.shape, data: x.data.slice() };
      plus.data[e] = v + h;
      minus.data[e] = v - h;
      const xsPlus = inputs.map((y, k) => (k === i ? plus : y));
      const xsMinus = inputs.map((y, k) => (k === i ? minus : y));
      fd.data[e] = (objective(xsPlus) - objective(xsMinus)) / (2 * h);
    }
    assertCloseScaled(grads[j], fd, tol, `${name}: gradient of input ${i} [${x.shape}]`);
  });
}

/** Number of elements of a shape (re-exported for tests). */
export { sizeOf };
