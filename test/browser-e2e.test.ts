/**
 * The demo page end to end in headless Chromium (Debian's, driven by playwright-core): served by
 * `nystromformer serve`'s server, it runs the shipped model in a Web Worker on the kernel pool, and its
 * numbers must match Node's pipelines on the same text. UPDATE_SCREENSHOTS=1 also measures the full
 * timing chart and writes docs/browser-demo.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { backend, decodePng, embed, fillMask, NystromformerForMaskedLM, Tokenizer } from '../src/index.js';
import { demoMounts, packageRoot, startServer, type RunningServer } from '../src/cli/serve-command.js';
import { headAttention } from '../src/web/demo-compute.js';
import { browserTestsSkipped, launchChromium } from './browser/chromium.js';

const MODEL = fileURLToPath(new URL('../../web/models/tiny-mlm', import.meta.url));
const TOLERANCE = 1e-4;
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
const skip = browserTestsSkipped();

let server: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  if (skip) return;
  browser = await launchChromium(); // first: without Chromium, fail with the install line
  server = await startServer({ mounts: demoMounts(), port: 0 });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  await page.goto(`${server.url}?threads=2`);
});

after(async () => {
  await browser?.close();
  await server?.close();
  backend().close();
});

/** The run's results with typed arrays as plain arrays (what crosses page.evaluate). */
interface PageRun {
  tokensA: number;
  tokensB: number;
  similarity: number;
  shares: number[];
  fill: { position: number; tokens: number[]; scores: number[] }[];
  candidates: { token: string; score: number }[][];
  embA: number[];
  embB: number[];
  attention: { n: number; m: number; r: number; values: number[] };
}

function assertClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  assert.equal(got.length, want.length, `${name}: length ${got.length} ≠ ${want.length}`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  assert.ok(worst <= TOLERANCE, `${name}: max |browser − node| = ${worst.toExponential(2)} > ${TOLERANCE}`);
}

test('the demo page runs the model in Chromium and matches Node', { skip }, async () => {
  const ready = await page.evaluate(() => window.demo.ready);
  assert.equal(ready.threads, 2);
  assert.ok(['relaxed', 'simd'].includes(ready.build), ready.build);

  await page.selectOption('#layer', '1');
  await page.selectOption('#head', '1');
  await page.click('#run');
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('status')!.dataset.state ?? ''), null, { timeout: 120_000 });
  const status = await page.textContent('#status');
  assert.match(status ?? '', /^done in \d+ ms$/, `the page says: ${status}`);
  // The button's run left its results in the page; window.demo.run() recomputes them for the typed arrays.
  const r: PageRun = await page.evaluate(async () => {
    const v = await window.demo.run();
    return { ...v, embA: Array.from(v.embA), embB: Array.from(v.embB), attention: { ...v.attention, values: Array.from(v.attention.values) } };
  });
  const [textA, textB] = await Promise.all([page.inputValue('#doc-a'), page.inputValue('#doc-b')]);

  const tokenizer = await Tokenizer.fromDir(MODEL);
  const model = await NystromformerForMaskedLM.fromPretrained(MODEL, { attention: 'nystrom', strict: true });
  try {
    assert.equal(r.tokensA, tokenizer.encode(textA).inputIds.length);
    assert.ok(r.tokensA > 500, `document A has only ${r.tokensA} tokens`);

    const node = fillMask(model, tokenizer, textA, { topK: 5 });
    assert.equal(r.fill.length, node.length, 'one candidate list per [MASK]');
    assert.ok(node.length >= 1);
    node.forEach((candidates, i) => {
      assert.deepEqual(r.fill[i].tokens, candidates.map((c) => c.token), `mask ${i}: the same top tokens`);
      assertClose(`mask ${i} scores`, r.fill[i].scores, candidates.map((c) => c.score));
      assert.deepEqual(r.candidates[i].map((c) => c.token), candidates.map((c) => c.tokenStr));
    });

    const [embA, embB] = embed(model, tokenizer, [textA, textB]);
    assertClose('embedding A', r.embA, embA);
    assertClose('embedding B', r.embB, embB);
    const dot = embA.reduce((s, x, i) => s + x * embB[i], 0);
    assertClose('similarity', [r.similarity], [dot]);

    const ids = tokenizer.encode(textA).inputIds;
    const attention = headAttention(model, ids, 1, 1);
    assert.deepEqual([r.attention.n, r.attention.m, r.attention.r], [attention.n, attention.m, attention.r]);
    assertClose('attention map', r.attention.values, attention.values);
  } finally {
    model.dispose();
  }

  // The pool ran in parallel: the worker (slot 0) and the other kernel thread both ran shares of the kernels.
  assert.equal(r.shares.length, 2, `shares ${JSON.stringify(r.shares)}`);
  assert.ok(r.shares.every((s) => s > 0), `every kernel thread ran shares: ${JSON.stringify(r.shares)}`);
});

test('the page measures attention time in the browser and draws the chart', { skip }, async () => {
  const options = UPDATE ? { seconds: 0 } : { nystrom: [512, 1024], softmax: [512], seconds: 0 };
  const timings = await page.evaluate((o) => window.demo.bench(o), options);
  assert.deepEqual(timings.map((t) => `${t.impl} ${t.n}`), UPDATE ? timings.map((t) => `${t.impl} ${t.n}`) : ['nystrom 512', 'nystrom 1024', 'softmax 512']);
  for (const t of timings) assert.ok(t.ms > 0 && Number.isFinite(t.ms) && t.peakMb > 0, JSON.stringify(t));
  assert.equal(await page.locator('#timings tr').count(), timings.length);
});

test('a screenshot of the page is not blank', { skip }, async () => {
  const png = await page.screenshot({ fullPage: true });
  const image = decodePng(new Uint8Array(png), 'screenshot');
  // Variance of the gray level over the page: a blank or single-colour page has none.
  const { pixels, channels } = image;
  let [sum, squares, count] = [0, 0, 0];
  for (let i = 0; i < pixels.length; i += channels) {
    const gray = channels >= 3 ? (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3 : pixels[i];
    sum += gray;
    squares += gray * gray;
    count++;
  }
  const variance = squares / count - (sum / count) ** 2;
  assert.ok(variance > 100, `the screenshot looks blank: gray-level variance ${variance.toFixed(1)}`);
  // The heat map itself has content (a canvas left empty is transparent black).
  const heat = await page.evaluate(() => {
    const c = document.getElementById('heatmap') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    return new Set(Array.from({ length: d.length / 4 }, (_, i) => d[4 * i + 1])).size;
  });
  assert.ok(heat > 16, `the heat map has only ${heat} distinct levels`);
  if (UPDATE) {
    mkdirSync(`${packageRoot()}docs`, { recursive: true });
    writeFileSync(`${packageRoot()}docs/browser-demo.png`, png);
  }
  assert.deepEqual(pageErrors, []);
});

test('without the isolation headers the page says how to serve it', { skip }, async () => {
  const plain = await browser.newPage();
  try {
    await plain.goto(`${server.url}?isolated=0`);
    await plain.waitForFunction(() => document.getElementById('status')!.dataset.state === 'error');
    assert.match((await plain.textContent('#status')) ?? '', /not cross-origin isolated.*nystromformer serve/);
  } finally {
    await plain.close();
  }
});
