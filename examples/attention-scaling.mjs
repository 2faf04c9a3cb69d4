// Nyström attention against exact softmax attention as the sequence grows: time and how close it is.
// Run from the repository root after `npm ci`: node examples/attention-scaling.mjs
import { nystromAttention, randn, softmaxAttention, sub, abs, max, tidy } from 'nystromformer';

for (const n of [256, 1024, 4096]) {
  tidy(() => {
    // (B, H, n, d); standard deviation 0.5, so that each row of attention spreads over many keys
    const [q, k, v] = [1, 2, 3].map((seed) => randn([1, 2, n, 32], seed, 0, 0.5));
    let t = performance.now();
    const approx = nystromAttention(q, k, v, { numLandmarks: 64 });
    const nystromMs = performance.now() - t;
    t = performance.now();
    const exact = softmaxAttention(q, k, v);
    const softmaxMs = performance.now() - t;
    const err = max(abs(sub(approx, exact))).item();
    console.log(`n ${String(n).padStart(5)}: Nyström ${nystromMs.toFixed(1)} ms, exact ${softmaxMs.toFixed(1)} ms, max |difference| ${err.toFixed(4)}`);
  });
}
