/**
 * src/web/onnx-web.ts in headless Chromium: a model exported here runs on onnxruntime-web in a
 * cross-origin isolated page (WebGPU when Chromium has an adapter, else WebAssembly with threads)
 * and gives the engine's last hidden state within 1e-4.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as OrtNode from 'onnxruntime-node';
import { noGrad, Tensor, tidy } from '../src/engine/index.js';
import { NystromformerModel } from '../src/models/index.js';
import { manualSeed } from '../src/nn/index.js';
import { exportOnnx } from '../src/runtime/index.js';
import type { OrtWeb } from '../src/web/onnx-web.js';
import { browserTestsSkipped } from './browser/chromium.js';
import { evaluateScriptPage } from './browser/script-page.js';

// onnxruntime-web's module has onnxruntime-node's (common) API: a page's `import * as ort` fits OrtWeb.
type Fits<T extends OrtWeb> = T;
export type OrtNodeFits = Fits<typeof OrtNode>;

const root = fileURLToPath(new URL('../../', import.meta.url));

const SCRIPT = `
  import * as ort from '/vendor/onnxruntime-web/ort.bundle.min.mjs';
  import { WebOnnxEncoder } from '/dist/src/web/onnx-web.js';
  window.result = (async () => {
    const bytes = new Uint8Array(await (await fetch('./model.onnx')).arrayBuffer());
    const ids = await (await fetch('./ids.json')).json();
    const encoder = await WebOnnxEncoder.create(ort, bytes, { wasmPaths: '/vendor/onnxruntime-web/' });
    const out = (await encoder.run(ids, [1, ids.length])).last_hidden_state;
    await encoder.release();
    return { provider: encoder.provider, threads: ort.env.wasm.numThreads, isolated: crossOriginIsolated, dims: out.dims, data: Array.from(out.data) };
  })().catch((e) => ({ failure: String(e && e.stack || e) }));
`;

test('onnxruntime-web in Chromium runs an exported model as the engine does (1e-4)', { skip: browserTestsSkipped() }, async () => {
  manualSeed(11);
  const model = new NystromformerModel({
    vocab_size: 120, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64,
    max_position_embeddings: 128, conv_kernel_size: 5,
  });
  model.setAttention({ attention: 'nystrom', numLandmarks: 8 });
  const n = 50; // 8 landmarks: uneven segments
  const ids = Array.from({ length: n }, (_, i) => (i * 37 + 5) % 120);
  const want = noGrad(() => tidy(() => model.forward({ inputIds: Tensor.from(Int32Array.from(ids), [1, n], 'int32') }).lastHiddenState.toArray()));
  const files = { 'model.onnx': exportOnnx(model), 'ids.json': JSON.stringify(ids) };
  model.dispose();
  const got = await evaluateScriptPage<Record<string, unknown>>(SCRIPT, {
    files,
    mounts: {
      '/dist/src/': resolve(root, 'dist/src'),
      // its Node entry sits in dist/ beside the browser builds and .wasm files
      '/vendor/onnxruntime-web/': dirname(fileURLToPath(import.meta.resolve('onnxruntime-web'))),
    },
  });
  assert.equal(got.isolated, true);
  assert.ok(got.provider === 'webgpu' || got.provider === 'wasm');
  if (got.provider === 'wasm') assert.ok((got.threads as number) >= 1);
  assert.deepEqual(got.dims, [1, n, 32]);
  const data = got.data as number[];
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(data[i] - want[i]));
  assert.ok(maxAbs <= 1e-4, `max abs diff ${maxAbs} on ${String(got.provider)}`);
  console.log(`onnxruntime-web (${String(got.provider)}, ${String(got.threads)} wasm threads) vs engine: max abs diff ${maxAbs.toExponential(2)}`);
});
