// Training-step time of bench train's classifier (Nyström, 64 landmarks, batch 1) and the optimizer's
// part of it: AdamW's apply timed on its own after each forward and backward. Median of 3 after a
// warm-up; one JSON line per case. Give a built checkout's root to measure another version.
//
//   node scripts/bench/optimizer-share.mjs [ROOT]      (cases: small at n = 512 and 4096, BERT-base-sized at 512)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = pathToFileURL(resolve(process.argv[2] ?? '.')).href;
const { NystromformerForSequenceClassification } = await import(`${root}/dist/src/models/index.js`);
const { AdamW } = await import(`${root}/dist/src/train/index.js`);
const E = await import(`${root}/dist/src/engine/index.js`);
const { manualSeed } = await import(`${root}/dist/src/nn/index.js`);

const CASES = [['small', 4, 256, 4, 512], ['small', 4, 256, 4, 4096], ['bert-base', 12, 768, 12, 512]];
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

for (const [name, layers, hidden, heads, n] of CASES) {
  manualSeed(1);
  const model = new NystromformerForSequenceClassification({
    num_hidden_layers: layers, hidden_size: hidden, num_attention_heads: heads, intermediate_size: 4 * hidden,
    max_position_embeddings: n, conv_kernel_size: 33,
  }, { attention: 'nystrom', numLandmarks: 64 }).train();
  const optimizer = new AdamW(model.namedParameters());
  const ids = Int32Array.from({ length: n }, (_, i) => 5 + ((i * 7919) % 1000));
  const forwardBackward = () => E.tidy(() => E.backward(model.forward({
    inputIds: E.Tensor.from(ids, [1, n], 'int32'), labels: E.Tensor.from(new Int32Array(1), [1], 'int32'),
  }).loss));
  const passes = [];
  const updates = [];
  for (let r = 0; r < 4; r++) {
    const t0 = performance.now();
    forwardBackward();
    const t1 = performance.now();
    await optimizer.apply(1e-4);
    const t2 = performance.now();
    optimizer.zeroGrad();
    if (r > 0) {
      passes.push(t1 - t0);
      updates.push(t2 - t1);
    }
  }
  const step = median(passes) + median(updates);
  console.log(JSON.stringify({
    bench: 'optimizer-share', model: name, params: model.parameters().reduce((s, p) => s + p.size, 0), n,
    step_ms: Math.round(step), tokens_per_s: Math.round((n * 1000) / step), optimizer_ms: Number(median(updates).toFixed(1)),
    optimizer_share: Number((median(updates) / step).toFixed(3)),
  }));
  model.dispose();
  optimizer.dispose?.();
}
