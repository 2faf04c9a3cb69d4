/**
 * The fused softmax attention against its unfused composition of engine ops (forward and the
 * gradients of q, k, v), a float64 finite-difference check, thread-count bit identity, working
 * memory at n = 8192, and its errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  add, addScalar, backend, configureEngine, gradients, matmul, mul, mulScalar, permute, randn, reshape,
  softmax, Tensor, tidy,
} from '../engine/index.js';
import { attentionDropoutKeep, softmaxAttention, softmaxAttentionWithProbs } from './softmax-attention.js';
import { assertBitIdentical, assertClose, assertCloseScaled, gradCheck, maxAbs, values } from '../../test/check.js';
import * as R from '../../test/reference.js';

/** The unfused reference: softmax(q·kᵀ/√d + (mask − 1)·1e9)·v from engine ops. */
function composed(q: Tensor, k: Tensor, v: Tensor, mask?: Tensor): { out: Tensor; probs: Tensor } {
  const [B, , , d] = q.shape;
  let s = mulScalar(matmul(q, k, { transB: true }), 1 / Math.sqrt(d)); // [B, H, n, nk]
  if (mask) s = add(s, reshape(mulScalar(addScalar(mask, -1), 1e9), [B, 1, 1, mask.shape[1]]));
  const probs = softmax(s);
  return { out: matmul(probs, v), probs };
}

/** A (B, nk) key-padding mask: batch 0 unpadded, batch b > 0 with its last ⌊b·nk/(B+1)⌋ keys padded. */
function paddingMask(B: number, nk: number): Tensor {
  const m = new Float32Array(B * nk).fill(1);
  for (let b = 1; b < B; b++) for (let j = nk - Math.floor((b * nk) / (B + 1)); j < nk; j++) m[b * nk + j] = 0;
  return Tensor.from(m, [B, nk]);
}

/** Output and gradients of q, k, v of one attention function for the cotangent dout. */
function run(
  fn: (q: Tensor, k: Tensor, v: Tensor, mask?: Tensor) => Tensor,
  q: Tensor, k: Tensor, v: Tensor, dout: Tensor, mask?: Tensor,
): Float32Array[] {
  return tidy(() => {
    for (const t of [q, k, v]) t.requiresGrad = true;
    const out = fn(q, k, v, mask);
    const grads = gradients([out], [q, k, v], [dout]);
    for (const t of [q, k, v]) t.requiresGrad = false;
    return [out, ...grads].map(values);
  });
}

const fused = (q: Tensor, k: Tensor, v: Tensor, mask?: Tensor) => softmaxAttention(q, k, v, { mask });
const unfused = (q: Tensor, k: Tensor, v: Tensor, mask?: Tensor) => composed(q, k, v, mask).out;
const NAMES = ['out', 'dq', 'dk', 'dv'];

/** |got − want| ≤ tol·max(1, max|want|): inputs are O(1), and some exact gradients are 0. */
function near(got: Float32Array, want: Float32Array, tol: number, message: string): void {
  assertClose(got, want, { rtol: 0, atol: tol * maxAbs(want, 1) }, message);
}

function compare(B: number, H: number, n: number, nk: number, d: number, masked: boolean, seed: number): void {
  tidy(() => {
    const q = randn([B, H, n, d], seed), k = randn([B, H, nk, d], seed + 1), v = randn([B, H, nk, d], seed + 2);
    const dout = randn([B, H, n, d], seed + 3);
    const mask = masked ? paddingMask(B, nk) : undefined;
    const got = run(fused, q, k, v, dout, mask);
    const want = run(unfused, q, k, v, dout, mask);
    got.forEach((g, i) => near(g, want[i], i === 0 ? 2e-5 : 5e-5, `B=${B} H=${H} n=${n} nk=${nk} d=${d} mask=${masked}: ${NAMES[i]}`));
  });
}

test('softmaxAttention matches the unfused composition: out, dq, dk, dv', () => {
  let seed = 10;
  for (const n of [1, 3, 17, 65, 130]) {
    for (const d of [8, 16, 64]) {
      for (const masked of [false, true]) compare(2, 3, n, n, d, masked, (seed += 4));
    }
  }
});

test('softmaxAttention: cross attention (nk ≠ n) and head sizes that are not multiples of 4', () => {
  compare(2, 2, 33, 70, 5, true, 1);
  compare(1, 3, 129, 7, 12, true, 2);
  compare(2, 1, 64, 64, 3, false, 3);
  compare(1, 2, 1, 200, 9, true, 4);
});

test('softmaxAttention: a fully padded row attends uniformly and stays finite (as PyTorch with −1e9)', () => {
  tidy(() => {
    const [B, H, n, d] = [2, 2, 20, 8];
    const q = randn([B, H, n, d], 5), k = randn([B, H, n, d], 6), v = randn([B, H, n, d], 7), dout = randn([B, H, n, d], 8);
    const m = new Float32Array(B * n).fill(1);
    m.fill(0, n); // batch 1: every key padded
    const mask = Tensor.from(m, [B, n]);
    const got = run(fused, q, k, v, dout, mask);
    const want = run(unfused, q, k, v, dout, mask);
    got.forEach((g, i) => {
      assert.ok(g.every(Number.isFinite), `${NAMES[i]} finite`);
      near(g, want[i], 5e-5, `fully padded: ${NAMES[i]}`);
    });
    // batch 1, head 0, query 0: the mean of v over all keys
    const vb = values(v).subarray(2 * n * d, 3 * n * d);
    const mean = Array.from({ length: d }, (_, c) => vb.reduce((s, x, i) => (i % d === c ? s + x : s), 0) / n);
    assertCloseScaled(got[0].subarray(2 * n * d, 2 * n * d + d), mean, 1e-5, 'uniform attention');
  });
});

test('softmaxAttention reads strided views (q, k, v permuted from (B, n, H, d))', () => {
  tidy(() => {
    const [B, H, n, d] = [2, 3, 37, 16];
    const view = (seed: number) => permute(randn([B, n, H, d], seed), [0, 2, 1, 3]);
    const q = view(1), k = view(2), v = view(3), dout = randn([B, H, n, d], 4);
    assert.equal(q.isContiguous, false);
    const mask = paddingMask(B, n);
    const got = run(fused, q, k, v, dout, mask);
    const want = run(unfused, q, k, v, dout, mask);
    got.forEach((g, i) => near(g, want[i], 5e-5, `views: ${NAMES[i]}`));
  });
});

test('softmaxAttention: float64 finite-difference gradients', async () => {
  const rng = new (class { s = 7; next() { this.s = (this.s * 16807) % 2147483647; return this.s / 2147483647; } })();
  const arr = (shape: number[]) => R.nd(shape, () => Math.fround(2 * rng.next() - 1));
  const [B, H, n, nk, d] = [2, 2, 3, 5, 4];
  const maskNd = R.nd([B, nk], (i) => (i === 8 || i === 9 ? 0 : 1)); // batch 1: last two keys padded
  const reference = (q: R.NDArray, k: R.NDArray, v: R.NDArray) => {
    const s = R.mulScalar(R.matmul(q, k, { transB: true }), 1 / Math.sqrt(d));
    const bias = R.reshape(R.mulScalar(R.addScalar(maskNd, -1), 1e9), [B, 1, 1, nk]);
    return R.matmul(R.softmax(s, bias), v);
  };
  const mask = Tensor.from(Float32Array.from(maskNd.data), [B, nk]);
  await gradCheck('softmaxAttention', (q, k, v) => softmaxAttention(q, k, v, { mask }), reference,
    [arr([B, H, n, d]), arr([B, H, nk, d]), arr([B, H, nk, d])], { tol: 1e-3, forwardTol: 1e-5 });
  mask.dispose();
});

test('softmaxAttentionWithProbs returns the probabilities of the composition (detached)', () => {
  tidy(() => {
    const [B, H, n, nk, d] = [2, 3, 70, 45, 16];
    const q = randn([B, H, n, d], 1), k = randn([B, H, nk, d], 2), v = randn([B, H, nk, d], 3);
    const mask = paddingMask(B, nk);
    const { out, attention } = softmaxAttentionWithProbs(q, k, v, { mask });
    const want = composed(q, k, v, mask);
    assert.deepEqual([...attention.shape], [B, H, n, nk]);
    assertCloseScaled(values(attention), values(want.probs), 1e-5, 'probabilities');
    assertCloseScaled(values(out), values(want.out), 2e-5, 'out');
    assert.equal(attention.requiresGrad, false);
  });
});

test('softmaxAttention is bit-identical on 1, 2 and 3 threads (n = 300, forward and backward)', () => {
  const before = backend().threads;
  try {
    const results = [1, 2, 3].map((threads) => {
      configureEngine({ threads });
      return tidy(() => {
        const [B, H, n, d] = [1, 2, 300, 64];
        const q = randn([B, H, n, d], 1), k = randn([B, H, n, d], 2), v = randn([B, H, n, d], 3);
        return run(fused, q, k, v, randn([B, H, n, d], 4), paddingMask(B, n));
      });
    });
    for (const t of [1, 2]) results[t].forEach((x, i) => assertBitIdentical(x, results[0][i], `threads ${t + 1} vs 1: ${NAMES[i]}`));
  } finally {
    configureEngine({ threads: before });
  }
});

test('softmaxAttention at n = 8192 never forms n×n: forward + backward in O(n·d) memory, no leaks', () => {
  const [B, H, n, d] = [1, 1, 8192, 64];
  const b = backend();
  const start = b.bytesInUse;
  tidy(() => {
    const q = randn([B, H, n, d], 1), k = randn([B, H, n, d], 2), v = randn([B, H, n, d], 3), dout = randn([B, H, n, d], 4);
    const qkvo = 4 * q.size * 4; // bytes of q, k, v and out
    const mask = paddingMask(B, n);
    const before = b.bytesInUse;
    b.resetPeak();
    tidy(() => {
      for (const t of [q, k, v]) t.requiresGrad = true;
      const out = softmaxAttention(q, k, v, { mask });
      const grads = gradients([out], [q, k, v], [dout]);
      assert.ok(grads.every((g) => g.shape[2] === n));
    });
    const extra = b.peakBytes - before;
    assert.ok(extra < 10 * qkvo, `peak working memory ${(extra / 2 ** 20).toFixed(1)} MiB, q+k+v+out ${(qkvo / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(extra < n * n * 4 / 8, 'far below one n×n float32 matrix');
    assert.equal(b.bytesInUse, before, 'everything made inside the scope was freed');
  });
  assert.equal(b.bytesInUse, start);
});

test('softmaxAttention without gradients keeps nothing alive', () => {
  tidy(() => {
    const q = randn([1, 2, 50, 8], 1), mask = paddingMask(1, 50);
    const before = backend().bytesInUse;
    const out = softmaxAttention(q, q, q, { mask });
    assert.equal(backend().bytesInUse - before, out.size * 4);
  });
});

test('softmaxAttention errors name the op and the shapes', () => {
  tidy(() => {
    const q = randn([2, 3, 5, 8], 1), k = randn([2, 3, 6, 8], 2);
    assert.throws(() => softmaxAttention(reshape(q, [6, 5, 8]), k, k), /softmaxAttention: q must be \(B, H, n, d\), got \[6, 5, 8\]/);
    assert.throws(() => softmaxAttention(q, k, randn([2, 3, 7, 8], 3)), /k and v must be .*\[2, 3, 6, 8\].*\[2, 3, 7, 8\]/);
    assert.throws(() => softmaxAttention(q, randn([2, 3, 6, 4], 3), randn([2, 3, 6, 4], 3)), /k and v must be/);
    assert.throws(() => softmaxAttention(q, randn([1, 3, 6, 8], 3), randn([1, 3, 6, 8], 3)), /k and v must be/);
    assert.throws(() => softmaxAttention(q, k, Tensor.from(new Int32Array(2 * 3 * 6 * 8), [2, 3, 6, 8])), /v must be float32, got int32/);
    assert.throws(() => softmaxAttention(q, k, k, { mask: randn([2, 5], 4) }), /mask must be \(B, nk\) = \[2, 6\], got \[2, 5\]/);
    assert.throws(() => softmaxAttention(q, k, k, { mask: Tensor.from([1, 1, 1, 0.5, 1, 1, 1, 1, 1, 1, 1, 1], [2, 6]) }), /mask values must be 0 or 1, got 0.5 at \[0, 3\]/);
    assert.throws(() => softmaxAttention(randn([2, 3, 0, 8], 5), k, k), /non-empty/);
    assert.throws(() => softmaxAttention(q, mulScalar(k, Infinity), k), /softmaxAttention: k \[2, 3, 6, 8\] contains non-finite values/);
    const long = randn([1, 1, 4097, 1], 6);
    assert.throws(() => softmaxAttentionWithProbs(long, long, long), /only returned for n, nk ≤ 4096/);
  });
});

/** The unfused reference with attention dropout: (softmax(s) ⊙ M)·v, M the kernels' mask. */
function composedDropout(p: number, seed: number) {
  return (q: Tensor, k: Tensor, v: Tensor, mask?: Tensor) => {
    const [B, H, n] = q.shape;
    const nk = k.shape[2];
    const keep = Tensor.from(attentionDropoutKeep(p, seed, B * H, n, nk), [B, H, n, nk]);
    return matmul(mul(composed(q, k, v, mask).probs, keep), v);
  };
}

for (const [B, H, n, nk, d, masked, p] of [[2, 2, 70, 130, 16, true, 0.3], [1, 2, 64, 64, 32, false, 0.1], [1, 1, 5, 200, 8, true, 0.5]] as const) {
  test(`attention dropout p = ${p}, (B, H, n, nk, d) = (${B}, ${H}, ${n}, ${nk}, ${d})${masked ? ', masked' : ''}: output and gradients match (softmax ⊙ M)·v`, () => {
    tidy(() => {
      const q = randn([B, H, n, d], 21), k = randn([B, H, nk, d], 22), v = randn([B, H, nk, d], 23);
      const dout = randn([B, H, n, d], 24);
      const mask = masked ? paddingMask(B, nk) : undefined;
      const seed = 0x9abcdef1; // above 2³¹: the kernels read it as unsigned
      const got = run((a, b, c, m) => softmaxAttention(a, b, c, { mask: m, dropout: { p, seed } }), q, k, v, dout, mask);
      const want = run(composedDropout(p, seed), q, k, v, dout, mask);
      got.forEach((g, i) => near(g, want[i], 2e-5, `${NAMES[i]} with dropout`));
      const plain = run(fused, q, k, v, dout, mask);
      assert.ok(maxAbs(got[0].map((x, i) => x - plain[0][i]), 0) > 1e-3, 'dropout changes the output');
    });
  });
}

test('attention dropout: about p of the probabilities are dropped, the rest scaled by 1/(1 − p); p = 0 is no dropout, bit for bit', () => {
  const keep = attentionDropoutKeep(0.25, 7, 4, 64, 64);
  const dropped = keep.filter((x) => x === 0).length / keep.length;
  assert.ok(Math.abs(dropped - 0.25) < 0.02, `dropped ${dropped}`);
  assert.ok(keep.every((x) => x === 0 || Math.abs(x - 1 / 0.75) < 1e-6));
  tidy(() => {
    const q = randn([1, 2, 40, 8], 1), k = randn([1, 2, 40, 8], 2), v = randn([1, 2, 40, 8], 3), dout = randn([1, 2, 40, 8], 4);
    const none = run((a, b, c) => softmaxAttention(a, b, c, { dropout: { p: 0, seed: 5 } }), q, k, v, dout);
    run(fused, q, k, v, dout).forEach((w, i) => assertBitIdentical(none[i], w, NAMES[i]));
    assert.throws(() => softmaxAttention(q, k, v, { dropout: { p: 1, seed: 5 } }), /softmaxAttention: dropout p must be in \[0, 1\), got 1/);
  });
});
