/** Misuse gives errors that name the op and the shapes involved. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../src/engine/index.js';

/** Runs fn in a scope (so nothing leaks) and asserts it throws an Error matching every pattern. */
function throwsWith(fn: () => unknown, ...patterns: RegExp[]): void {
  let error: unknown;
  try {
    E.tidy(() => void fn());
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
  for (const p of patterns) assert.match(error.message, p);
}

const f = (...shape: number[]) => E.zeros(shape);
const ints = (values: number[], shape = [values.length]) => E.tensor(new Int32Array(values), shape, 'int32');

describe('shape errors name the op and the shapes', () => {
  test('matmul inner-dimension mismatch', () => {
    throwsWith(() => E.matmul(f(2, 3), f(4, 5)), /matmul/, /\[2, 3\]/, /\[4, 5\]/, /inner dimensions 3 and 4/);
    throwsWith(() => E.matmul(f(3, 2), f(4, 5), { transA: true }), /matmul \(A transposed\)/, /inner dimensions 3 and 4/);
    throwsWith(() => E.matmul(f(2, 3), f(5, 4), { transB: true }), /B transposed/, /\[5, 4\]/);
  });
  test('matmul batch and rank errors', () => {
    throwsWith(() => E.matmul(f(2, 3, 4), f(3, 4, 5)), /matmul/, /\[2\]/, /\[3\]/, /broadcast/);
    throwsWith(() => E.matmul(f(3), f(3, 4)), /matmul/, /\[3\]/, /2 dimensions/);
  });
  test('broadcast failures', () => {
    throwsWith(() => E.add(f(2, 3), f(4)), /add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
    throwsWith(() => E.mul(f(2, 3, 4), f(3, 3)), /mul/, /\[2, 3, 4\]/, /\[3, 3\]/);
    throwsWith(() => E.where(f(2), f(3), f(3)), /where/, /\[2\]/, /\[3\]/);
    throwsWith(() => E.softmax(f(2, 3), { mask: f(2, 2, 3) }), /softmax/, /\[2, 2, 3\]/);
    throwsWith(() => E.expand(f(2, 3), [4, 3]), /expand/, /\[2, 3\]/, /\[4, 3\]/);
  });
  test('reshape size mismatch', () => {
    throwsWith(() => E.reshape(f(2, 3), [4, 2]), /reshape/, /\[2, 3\]/, /\[4, 2\]/);
    throwsWith(() => E.reshape(f(2, 3), [-1, -1]), /reshape/);
    throwsWith(() => E.reshape(f(2, 3), [4, -1]), /reshape/, /\[4, -1\]/);
  });
  test('axes, permutations, slices', () => {
    throwsWith(() => E.sum(f(2, 3), 2), /sum: axis 2 out of range for rank 2/);
    throwsWith(() => E.sum(f(2, 3), [1, -1]), /sum: repeated axis/);
    throwsWith(() => E.permute(f(2, 3), [0, 0]), /permute/, /\[2, 3\]/);
    throwsWith(() => E.squeeze(f(2, 3), 0), /squeeze/, /\[2, 3\]/, /size 2/);
    throwsWith(() => E.slice(f(2, 3), 1, 2, 1), /slice/, /\[2, 3\]/);
    throwsWith(() => E.concat([f(2, 3), f(3, 3)], 1), /concat/, /\[2, 3\]/, /\[3, 3\]/);
    throwsWith(() => E.stack([f(2, 3), f(2, 4)]), /(stack|concat)/, /\[2, 4\]|\[2, 1, 4\]|\[1, 2, 4\]/);
    throwsWith(() => E.pad(f(2, 3), [[1, 1], [0, 0], [1, 1]]), /pad/, /\[2, 3\]/);
  });
  test('tensor construction', () => {
    throwsWith(() => E.tensor([1, 2, 3], [2, 2]), /3 values/, /\[2, 2\]/);
    throwsWith(() => E.zeros([2, -1]), /invalid shape \[2, -1\]/);
    throwsWith(() => f(2, 3).item(), /item/, /\[2, 3\]/);
    const t = E.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.deepEqual([...E.transpose(t).toArray()], [1, 4, 2, 5, 3, 6], 'toArray of a view reads it in its own row-major order');
    assert.deepEqual([...E.slice(E.transpose(t), 0, 1, 3).toArray()], [2, 5, 3, 6]);
    t.dispose();
  });
});

describe('indexing errors', () => {
  test('take with an out-of-range or negative id', () => {
    throwsWith(() => E.take(f(5, 3), ints([0, 7, 1])), /take/, /index 7/, /\[0, 5\)/);
    throwsWith(() => E.take(f(5, 3), ints([-1])), /take/, /index -1/);
    throwsWith(() => E.take(f(5, 3), E.tensor([1, 2])), /take/, /int32/);
  });
  test('gather with wrong indices', () => {
    throwsWith(() => E.gather(f(2, 3), ints([0, 3], [2, 1]), 1), /gather/, /index 3/);
    throwsWith(() => E.gather(f(2, 3), ints([0, 1, 0], [3, 1]), 1), /gather/, /\[3, 1\]/, /\[2, 3\]/);
  });
});

describe('nn errors', () => {
  test('depthwiseConv1d with a wrong weight shape or even K', () => {
    throwsWith(() => E.depthwiseConv1d(f(1, 2, 5, 4), f(3, 1, 3, 1)), /depthwiseConv1d/, /\[3, 1, 3, 1\]/, /\[1, 2, 5, 4\]/);
    throwsWith(() => E.depthwiseConv1d(f(1, 2, 5, 4), f(2, 2, 3, 1)), /depthwiseConv1d/, /\[2, 2, 3, 1\]/);
    throwsWith(() => E.depthwiseConv1d(f(1, 2, 5, 4), f(2, 1, 4, 1)), /depthwiseConv1d/, /odd/, /4/);
    throwsWith(() => E.depthwiseConv1d(f(2, 5, 4), f(2, 1, 3, 1)), /depthwiseConv1d/, /\[2, 5, 4\]/);
    throwsWith(() => E.depthwiseConv1d(f(1, 2, 5, 4), f(2, 3, 1)), /depthwiseConv1d/, /\[2, 3, 1\]/);
  });
  test('crossEntropy with wrong shapes or targets', () => {
    throwsWith(() => E.crossEntropy(f(4, 3), ints([0, 1, 2, 0, 1])), /crossEntropy/, /\[4, 3\]/, /\[5\]/);
    throwsWith(() => E.crossEntropy(f(2, 4, 3), ints([0, 1])), /crossEntropy/, /\[2, 4, 3\]/);
    throwsWith(() => E.crossEntropy(f(2, 3), f(2)), /crossEntropy/, /int32/);
    throwsWith(() => E.crossEntropy(f(2, 3), ints([0, 3])), /crossEntropy/, /target 3/, /out of range \[0, 3\)/);
    throwsWith(() => E.crossEntropy(f(2, 3), ints([0, 1]), { labelSmoothing: 1.5 }), /crossEntropy/, /labelSmoothing/);
  });
  test('layerNorm, mseLoss, dropout, dtypes', () => {
    throwsWith(() => E.layerNorm(f(2, 4), f(3)), /layerNorm/, /\[3\]/, /\[2, 4\]/);
    throwsWith(() => E.mseLoss(f(2, 3), f(3, 3)), /mseLoss/, /\[2, 3\]/, /\[3, 3\]/);
    throwsWith(() => E.mseLoss(f(4, 1), f(4)), /mseLoss/, /\[4, 1\]/, /\[4\]/);
    throwsWith(() => E.dropout(f(4), 1, 0), /dropout/, /p/);
    throwsWith(() => E.add(ints([1, 2]), f(2)), /add/, /int32/);
    throwsWith(() => E.exp(ints([1, 2])), /exp/, /int32/);
    throwsWith(() => E.parameter(ints([1])), /parameter/, /int32/);
  });
  test('int32 data is rejected by float-only kernels rather than reinterpreted', () => {
    throwsWith(() => E.depthwiseConv1d(E.zeros([1, 1, 4, 2], 'int32'), f(1, 1, 3, 1)), /depthwiseConv1d/, /int32|float32/);
    throwsWith(() => E.depthwiseConv1d(f(1, 1, 4, 2), E.zeros([1, 1, 3, 1], 'int32')), /depthwiseConv1d/, /int32|float32/);
    for (const [name, out] of [['take', () => E.take(ints([1, 2, 3, 4], [2, 2]), ints([1]))], ['gather', () => E.gather(ints([1, 2, 3, 4], [2, 2]), ints([1, 0], [2, 1]), 1)]] as const) {
      let result: string | undefined;
      try {
        result = E.tidy(() => {
          const t = out();
          return `${t.dtype} ${[...t.toArray()]}`;
        });
      } catch (e) {
        assert.match((e as Error).message, new RegExp(name));
        continue;
      }
      assert.ok(result === 'int32 3,4' || result === 'int32 2,3', `${name} of an int32 tensor gave ${result}`);
    }
  });
});

describe('autograd errors', () => {
  test('backward from a non-scalar without a cotangent', () => {
    const x = E.parameter(f(2, 3));
    throwsWith(() => E.backward(E.exp(x)), /backward/, /\[2, 3\]/, /not a scalar/, /cotangent/);
    throwsWith(() => E.backward(E.exp(x), f(3, 2)), /backward/, /cotangent \[3, 2\]/, /\[2, 3\]/);
    throwsWith(() => E.gradients([E.exp(x)], [x]), /not a scalar/);
    throwsWith(() => E.backward(E.sum(f(2))), /backward/, /does not depend on any tensor that requires grad/);
    assert.equal(x.grad, null, 'failed backward calls leave .grad alone');
    x.dispose();
  });
  test('configureEngine rejects bad thread counts', () => {
    assert.throws(() => E.configureEngine({ threads: 0 }), /threads/);
    assert.throws(() => E.configureEngine({ threads: 1.5 }), /threads/);
  });
});
