/**
 * The optimizers on the engine: bit-identical to the float64 JavaScript updates they replaced,
 * one scalar read per step (the clipping norm), and state that round-trips through state() /
 * loadState (the checkpoint format).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../src/engine/index.js';
import { AdamW, SGD, type Optimizer } from '../src/train/index.js';
import { countReads } from './reads.js';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const values = (t: E.Tensor) => t.toArray() as Float32Array;

/** Two parameters (one exempt from decay) with seeded gradients, and a step that sets them. */
function setup(seed: number) {
  const named: [string, E.Tensor][] = [['layer.weight', E.parameter(E.randn([5, 7], seed))], ['layer.bias', E.parameter(E.randn([7], seed + 1))]];
  const grads = (step: number) => named.forEach(([, p], i) => {
    p.grad?.dispose();
    p.grad = E.keep(E.randn(p.shape, 100 * step + i, 0, 2));
  });
  return { named, grads, dispose: () => named.forEach(([, p]) => (p.grad?.dispose(), p.dispose())) };
}

/** The former float64 loops: AdamW (decay 0.01, bias exempt) and SGD with momentum. */
function reference(kind: 'adamw' | 'sgd', named: [string, Float32Array][], gradsAt: (step: number) => Float32Array[], lr: number, scales: number[]) {
  const slots = named.map(([, w]) => [new Float32Array(w.length), new Float32Array(w.length)]);
  scales.forEach((gradScale, s) => {
    const step = s + 1;
    const gs = gradsAt(step);
    named.forEach(([name, w], k) => {
      const g = gs[k];
      const [m, v] = slots[k];
      if (kind === 'sgd') {
        for (let i = 0; i < w.length; i++) {
          let d = g[i] * gradScale + 0 * w[i];
          d = m[i] = 0.9 * m[i] + d;
          w[i] -= lr * d;
        }
        return;
      }
      const [c1, c2] = [1 - 0.9 ** step, 1 - 0.999 ** step];
      const shrink = name.endsWith('.bias') ? 1 : 1 - lr * 0.01;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] * gradScale;
        m[i] = 0.9 * m[i] + (1 - 0.9) * gi;
        v[i] = 0.999 * v[i] + (1 - 0.999) * gi * gi;
        w[i] = w[i] * shrink - (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-8);
      }
    });
  });
}

for (const kind of ['adamw', 'sgd'] as const) {
  test(`${kind}: engine updates are bit-identical to the float64 reference, one read per step`, async () => {
    const { named, grads, dispose } = setup(7);
    const start = named.map(([name, p]) => [name, values(p)] as [string, Float32Array]);
    const opt: Optimizer = kind === 'adamw' ? new AdamW(named) : new SGD(named, 0.9);
    const scales: number[] = [];
    const gradValues: Float32Array[][] = [];
    for (let step = 1; step <= 4; step++) {
      grads(step);
      gradValues.push(named.map(([, p]) => values(p.grad!)));
      let clipped!: Promise<{ scale: number }>;
      const reads = countReads(() => void (clipped = opt.clip(3)));
      const { scale } = await clipped;
      assert.equal(reads + countReads(() => opt.apply(1e-2, scale)), 1, `step ${step}: ${reads} reads`);
      scales.push(scale);
    }
    assert.ok(scales.some((s) => s < 1), 'clipping took part');
    reference(kind, start, (step) => gradValues[step - 1], 1e-2, scales);
    named.forEach(([name, p], k) => assert.deepEqual(bits(values(p)), bits(start[k][1]), name));
    opt.dispose();
    dispose();
  });
}

test('state() and loadState() carry the optimizer across: the next updates are identical', async () => {
  const a = setup(3);
  const b = setup(3);
  const [oa, ob] = [new AdamW(a.named), new AdamW(b.named)];
  for (let step = 1; step <= 2; step++) {
    a.grads(step);
    oa.apply(1e-2);
  }
  const saved = await oa.state();
  assert.deepEqual(Object.keys(saved.slots['layer.weight']).sort(), ['m', 'v']);
  b.named.forEach(([, p], k) => E.assign(p, a.named[k][1]));
  ob.loadState(saved);
  a.grads(3);
  b.grads(3);
  oa.apply(1e-2);
  ob.apply(1e-2);
  a.named.forEach(([name, p], k) => assert.deepEqual(bits(values(p)), bits(values(b.named[k][1])), name));
  assert.deepEqual((await ob.state()).step, 3);
  [oa, ob].forEach((o) => o.dispose());
  a.dispose();
  b.dispose();
});
