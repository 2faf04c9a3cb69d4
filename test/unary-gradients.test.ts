/**
 * Every unary op of the table (src/engine/backend/op-codes.ts) against its kernels: the forward
 * and gradient kernels have a case for each op, each 'kernel' derivative passes a finite-difference
 * check against the float64 reference, and each 'none' op records no backward.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as E from '../src/engine/index.js';
import { kernelConstant, UNARY_GRADIENT, UNARY_OPS, type UnaryOp } from '../src/engine/backend/op-codes.js';
import * as R from './reference.js';
import { assertClose, gradCheck, readValues, Rng, toTensor } from './check.js';
import { onEveryBackend } from './webgpu/backends.js';

interface Case {
  f: (x: E.Tensor) => E.Tensor;
  ref: (x: R.NDArray) => R.NDArray;
  /** Where inputs are drawn: 'positive' for ops defined (or smooth) only there. */
  domain: 'mixed' | 'positive';
}

const named = (name: R.UnaryName & UnaryOp, domain: Case['domain'] = 'mixed'): Case => ({
  f: E[name] as (x: E.Tensor) => E.Tensor, ref: (a) => R.unary(name, a), domain,
});

/** A Record over the table: an op added there without a case here does not compile. */
const CASES: Record<UnaryOp, Case> = {
  neg: named('neg'), exp: named('exp'), log: named('log', 'positive'), sqrt: named('sqrt', 'positive'),
  rsqrt: named('rsqrt', 'positive'), tanh: named('tanh'), relu: named('relu'), gelu: named('gelu'),
  geluTanh: named('geluTanh'), sigmoid: named('sigmoid'), abs: named('abs'), square: named('square'),
  erf: named('erf'), reciprocal: named('reciprocal', 'positive'), step: named('step'),
  addScalar: { f: (x) => E.addScalar(x, 0.7), ref: (a) => R.addScalar(a, 0.7), domain: 'mixed' },
  mulScalar: { f: (x) => E.mulScalar(x, -1.3), ref: (a) => R.mulScalar(a, -1.3), domain: 'mixed' },
  powScalar: { f: (x) => E.powScalar(x, 2.5), ref: (a) => R.powScalar(a, 2.5), domain: 'positive' },
};

const rng = new Rng(20261206);
/** Values kept away from 0, where relu, abs and step have kinks and 1/x a pole. */
const input = (domain: Case['domain']) =>
  domain === 'positive' ? rng.array([4, 9], 0.3, 2.5) : R.map(rng.array([4, 9], -2.5, 2.5), (v) => (Math.abs(v) < 0.1 ? 0.7 : v));

await onEveryBackend(() => {
  for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
    test(`unary ${op}: ${UNARY_GRADIENT[op] === 'kernel' ? 'the kernel derivative matches finite differences' : 'no backward is recorded'}`, async () => {
      const { f, ref, domain } = CASES[op];
      const x = input(domain);
      if (UNARY_GRADIENT[op] === 'kernel') {
        await gradCheck(op, f, ref, [x]);
        return;
      }
      const [y] = await readValues(() => {
        const t = toTensor(x);
        t.requiresGrad = true;
        const y = f(t);
        assert.equal(y.node, null, `${op} recorded a backward`);
        return [y];
      });
      assertClose(y, ref(x).data, {}, op);
    });
  }
});

/** The UNARY_* constants a kernel function's switch has cases for. */
function cases(fn: string): string[] {
  const text = readFileSync(new URL('../../src/engine/kernels/elementwise.ts', import.meta.url), 'utf8');
  const start = text.search(new RegExp(`function ${fn}\\(`));
  assert.ok(start >= 0, `no function ${fn} in elementwise.ts`);
  const body = text.slice(start, text.indexOf('\n}\n', start));
  return [...body.matchAll(/case (UNARY_\w+):/g)].map((m) => m[1]).sort();
}

test('the unary kernels have a case for every op of the table, forward and gradient', () => {
  const want = Object.keys(UNARY_OPS).map((op) => kernelConstant('UNARY', op)).sort();
  for (const fn of ['uop', 'unary', 'ugrad', 'unaryGrad']) assert.deepEqual(cases(fn), want, fn);
});
