/**
 * Working memory of attention as n grows (forward + backward, the arena's peak above what the
 * inputs hold). Nyström keeps O(n·m + n·d) per head and flash-tiled exact attention O(n·d) plus
 * fixed tiles, so going from n = 1024 to 4096 multiplies either peak by about 4; anything that
 * formed an n×n matrix would multiply it by about 16. The bound of 5 leaves room for fixed
 * costs (landmark m×m matrices, tiles) without letting a quadratic term through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backend, gradients, nystromAttention, randn, softmaxAttention, tidy } from '../src/index.js';

const LENGTHS = [1024, 2048, 4096];
const LINEAR_BOUND = 5;

function peakBytes(impl: 'nystrom' | 'softmax', n: number): number {
  return tidy(() => {
    const shape = [1, 2, n, 32];
    const [q, k, v] = [1, 2, 3].map((seed) => randn(shape, seed));
    [q, k, v].forEach((t) => (t.requiresGrad = true));
    const dout = randn(shape, 4);
    const b = backend();
    const before = b.bytesInUse;
    b.resetPeak();
    tidy(() => {
      const out = impl === 'nystrom' ? nystromAttention(q, k, v, { numLandmarks: 32 }) : softmaxAttention(q, k, v);
      gradients([out], [q, k, v], [dout]);
    });
    return b.peakBytes - before;
  });
}

for (const impl of ['nystrom', 'softmax'] as const) {
  test(`${impl}: forward+backward peak memory grows linearly in n (×4 in n, under ×${LINEAR_BOUND} in memory)`, () => {
    const peaks = LENGTHS.map((n) => peakBytes(impl, n));
    assert.ok(peaks.every((p) => p > 0), `peaks ${peaks}`);
    assert.ok(peaks[0] < peaks[1] && peaks[1] < peaks[2], `peaks ${peaks} should grow with n`);
    const ratio = peaks[2] / peaks[0];
    assert.ok(ratio < LINEAR_BOUND, `peak(4096)/peak(1024) = ${ratio.toFixed(2)} (${peaks.join(', ')} bytes); quadratic would be ~16`);
  });
}
