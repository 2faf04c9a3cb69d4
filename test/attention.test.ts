/** Finite-difference gradient checks of the attention layer's own differentiable ops. */
import { describe, test } from 'node:test';
import * as E from '../src/index.js';
import * as R from './reference.js';
import { gradCheck, Rng } from './check.js';
import type { NDArray } from './reference.js';

const rng = new Rng(31337);

/** float64 segment means along axis 2 of (B, H, n, d), with docs/algorithm.md §1.7's uneven segments. */
function segmentMeansRef(x: NDArray, m: number): NDArray {
  const [B, H, n, d] = x.shape;
  const bounds = E.segmentBounds(n, m);
  return R.build([B, H, m, d], ([b, h, j, c]) => {
    const [s, e] = bounds[j];
    let acc = 0;
    for (let i = s; i < e; i++) acc += R.get(x, [b, h, i, c]);
    return acc / (e - s);
  });
}

describe('segment means (landmarks)', () => {
  for (const [n, m, d] of [[8, 4, 3], [7, 3, 5], [10, 4, 4], [5, 5, 2], [9, 1, 6]]) {
    test(`n=${n} m=${m} d=${d}`, async () => {
      await gradCheck(`segmentMeans ${n}/${m}`, (x) => E.segmentMeans(x, m), (x) => segmentMeansRef(x, m), [rng.array([2, 2, n, d])]);
    });
  }
  test('non-contiguous input', async () => {
    await gradCheck('segmentMeans of permute', (x) => E.segmentMeans(E.permute(x, [0, 2, 1, 3]), 3),
      (x) => segmentMeansRef(R.permute(x, [0, 2, 1, 3]), 3), [rng.array([1, 7, 2, 4])]);
  });
});
