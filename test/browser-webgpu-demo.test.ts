/**
 * The demo page on WebGPU (headless Chromium's SwiftShader adapter): it says which backend runs,
 * answers fill-mask as the WebAssembly engine in Node does, and trains with Node's losses.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { fillMask, NystromformerForMaskedLM, Tokenizer } from '../src/index.js';
import { browserTestsSkipped } from './browser/chromium.js';
import { closeDemoPage, nodeTraining, openDemoPage, type DemoPage } from './browser/demo-page.js';

const MODEL = fileURLToPath(new URL('../../web/models/tiny-mlm', import.meta.url));
const skip = browserTestsSkipped();
let demo: DemoPage | undefined;

before(async () => {
  if (!skip) demo = await openDemoPage('?threads=1&device=webgpu', { consoleErrors: true, webgpu: true });
});
after(() => closeDemoPage(demo));

test('the demo runs on WebGPU and says so; fill-mask as in Node', { skip }, async () => {
  const { page, errors } = demo!;
  await page.evaluate(() => window.demo.ready);
  assert.match((await page.textContent('#engine')) ?? '', /^WebGPU \(google swiftshader/);
  const fill = await page.evaluate(async () => (await window.demo.run()).fill);
  const tokenizer = await Tokenizer.fromDir(MODEL);
  const model = await NystromformerForMaskedLM.fromPretrained(MODEL, { attention: 'nystrom', strict: true });
  try {
    const node = await fillMask(model, tokenizer, await page.inputValue('#doc-a'), { topK: 5 });
    assert.equal(fill.length, node.length);
    fill.forEach((m, j) => {
      assert.deepEqual(m.tokens, node[j].map((c) => c.token), `mask ${j}: tokens`);
      m.scores.forEach((s, k) => assert.ok(Math.abs(s - node[j][k].score) < 1e-5, `mask ${j}: score ${s} vs ${node[j][k].score}`));
    });
  } finally {
    model.dispose();
  }
  assert.deepEqual(errors, []);
});

test('the demo trains on WebGPU with the losses Node computes', { skip }, async () => {
  const { page } = demo!;
  const t = await page.evaluate(() => window.demo.train({ steps: 3 }));
  const { examples, steps: node } = await nodeTraining(page, MODEL, 3);
  assert.equal(t.examples, examples);
  t.steps.forEach((s, i) => assert.ok(Math.abs(s.loss - node[i].loss) < 1e-4 * Math.abs(node[i].loss), `step ${i + 1}: WebGPU ${s.loss}, Node ${node[i].loss}`));
  console.log(JSON.stringify({ webgpu: t.steps.map((s) => s.loss), node: node.map((s) => s.loss) }));
});
