/**
 * The demo page end to end in headless Chromium (Debian's, driven by playwright-core): served by
 * `nystromformer serve`'s server, it runs the shipped model in a Web Worker on the kernel pool, and its
 * numbers must match Node's pipelines on the same text; it trains the model for a few steps (its first
 * loss must be Node's for the same seed and data), and runs model folders picked on the page (a masked
 * LM, a classifier, broken ones). UPDATE_SCREENSHOTS=1 also measures the full timing chart and writes
 * docs/browser-demo.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import {
  classify, decodePng, embed, fillMask, NystromformerForMaskedLM, NystromformerForSequenceClassification, Tokenizer,
} from '../src/index.js';
import { packageRoot, type RunningServer } from '../src/cli/serve-command.js';
import { headAttention } from '../src/web/demo-compute.js';
import { DEMO_TRAINING } from '../src/web/demo-train.js';
import { browserTestsSkipped } from './browser/chromium.js';
import { closeDemoPage, nodeTraining, openDemoPage, type DemoPage } from './browser/demo-page.js';
import { maxAbsError } from './helpers.js';

const MODEL = fileURLToPath(new URL('../../web/models/tiny-mlm', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/models/', import.meta.url));
const TOLERANCE = 1e-4;
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
const skip = browserTestsSkipped();

let demo: DemoPage | undefined;
let server: RunningServer;
let browser: Browser;
let page: Page;
let pageErrors: string[] = [];

before(async () => {
  if (skip) return;
  demo = await openDemoPage('?threads=2', { consoleErrors: true });
  ({ server, browser, page, errors: pageErrors } = demo);
});

after(() => closeDemoPage(demo));

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
  const worst = maxAbsError(got, want);
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

    const node = await fillMask(model, tokenizer, textA, { topK: 5 });
    assert.equal(r.fill.length, node.length, 'one candidate list per [MASK]');
    assert.ok(node.length >= 1);
    node.forEach((candidates, i) => {
      assert.deepEqual(r.fill[i].tokens, candidates.map((c) => c.token), `mask ${i}: the same top tokens`);
      assertClose(`mask ${i} scores`, r.fill[i].scores, candidates.map((c) => c.score));
      assert.deepEqual(r.candidates[i].map((c) => c.token), candidates.map((c) => c.tokenStr));
    });

    const [embA, embB] = await embed(model, tokenizer, [textA, textB]);
    assertClose('embedding A', r.embA, embA);
    assertClose('embedding B', r.embB, embB);
    const dot = embA.reduce((s, x, i) => s + x * embB[i], 0);
    assertClose('similarity', [r.similarity], [dot]);

    const ids = tokenizer.encode(textA).inputIds;
    const attention = await headAttention(model, ids, 1, 1);
    assert.deepEqual([r.attention.n, r.attention.m, r.attention.r], [attention.n, attention.m, attention.r]);
    assertClose('attention map', r.attention.values, attention.values);
  } finally {
    model.dispose();
  }

  // The pool ran in parallel: the worker (slot 0) and the other kernel thread both ran shares of the kernels.
  assert.equal(r.shares.length, 2, `shares ${JSON.stringify(r.shares)}`);
  assert.ok(r.shares.every((s) => s > 0), `every kernel thread ran shares: ${JSON.stringify(r.shares)}`);
});

test('the page trains the model in its worker: the loss falls, and its first loss matches Node', { skip }, async () => {
  const steps = DEMO_TRAINING.steps;
  const t = await page.evaluate((n) => window.demo.train({ steps: n }), steps);
  assert.equal(t.task, 'mlm');
  assert.equal(t.steps.length, steps);
  const losses = t.steps.map((s) => s.loss);
  assert.ok(losses.every(Number.isFinite), `losses ${losses.join(', ')}`);
  const lastFive = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
  assert.ok(lastFive < losses[0] - 1, `the loss did not fall: step 1 ${losses[0].toFixed(3)}, mean of the last five ${lastFive.toFixed(3)}`);
  assert.match((await page.textContent('#status')) ?? '', new RegExp(`^trained ${steps} steps: loss`));

  // Node: the same examples from the same text, the same seed, the same loop; two steps are enough.
  const { examples, steps: node } = await nodeTraining(page, MODEL, 2);
  assert.equal(t.examples, examples);
  assertClose('loss at step 1', [losses[0]], [node[0].loss]);
  assertClose('gradient norm at step 1', [t.steps[0].gradNorm], [node[0].gradNorm]);
  assert.ok(Math.abs(losses[1] - node[1].loss) < 1e-3, `loss at step 2: browser ${losses[1]}, node ${node[1].loss}`);
  // The loss chart has the curve (a canvas left empty is transparent black).
  const colours = await page.evaluate(() => {
    const c = document.getElementById('loss') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    return new Set(Array.from({ length: d.length / 4 }, (_, i) => `${d[4 * i]},${d[4 * i + 1]},${d[4 * i + 2]}`)).size;
  });
  assert.ok(colours > 8, `the loss chart has only ${colours} colours`);
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

/** Picks a folder in the page's folder input, waits for the page to load it or fail, and returns its status line. */
async function pickFolder(dir: string): Promise<{ state: string; text: string }> {
  await page.setInputFiles('#folder', dir);
  await page.waitForFunction(() => document.getElementById('status')!.dataset.state !== 'busy', null, { timeout: 60_000 });
  return page.$eval('#status', (e) => ({ state: (e as HTMLElement).dataset.state ?? '', text: e.textContent ?? '' }));
}

const runOnPage = () => page.evaluate(async () => {
  const v = await window.demo.run();
  return { fill: v.fill, classes: v.classes, embA: Array.from(v.embA) };
});

test('a masked-LM folder picked on the page replaces the shipped model and matches Node', { skip }, async () => {
  const dir = join(FIXTURES, 'mlm-dense-tied');
  const tokenizer = await Tokenizer.fromDir(dir);
  const text = `Landmarks summarise a long ${tokenizer.maskToken} in a few rows.`;
  await page.fill('#doc-a', text);
  const status = await pickFolder(dir);
  assert.deepEqual(status, { state: 'ready', text: 'loaded mlm-dense-tied' });
  assert.match((await page.textContent('#model-name')) ?? '', /^mlm-dense-tied: NystromformerForMaskedLM, 2 layers/);
  const r = await runOnPage();
  const model = await NystromformerForMaskedLM.fromPretrained(dir, { attention: 'nystrom', strict: true });
  try {
    const [node] = await fillMask(model, tokenizer, text, { topK: 5 }); // one [MASK]
    assert.equal(r.fill.length, 1);
    assert.deepEqual(r.fill[0].tokens, node.map((c) => c.token));
    assertClose('fill-mask scores', r.fill[0].scores, node.map((c) => c.score));
    assertClose('embedding A', r.embA, (await embed(model, tokenizer, [text]))[0]);
  } finally {
    model.dispose();
  }
});

test('a classifier folder picked on the page shows its label probabilities, as Node computes them', { skip }, async () => {
  const dir = join(FIXTURES, 'seqcls-single');
  const text = 'A short review of a long book.';
  await page.fill('#doc-a', text);
  assert.equal((await pickFolder(dir)).text, 'loaded seqcls-single');
  assert.equal(await page.textContent('#result-title'), 'Classification of document A');
  const r = await runOnPage();
  assert.equal(r.fill.length, 0);
  const tokenizer = await Tokenizer.fromDir(dir);
  const model = await NystromformerForSequenceClassification.fromPretrained(dir, { attention: 'nystrom', strict: true });
  try {
    const node = new Map((await classify(model, tokenizer, text)).map((c) => [c.label, c.score]));
    assert.deepEqual(r.classes.map((c) => c.label), ['negative', 'neutral', 'positive']);
    assertClose('label probabilities', r.classes.map((c) => c.score), r.classes.map((c) => node.get(c.label)!));
  } finally {
    model.dispose();
  }
  assert.equal(await page.locator('#fill tr').count(), 3);
  // Training a classifier uses the synthetic task; a couple of steps show it runs.
  const t = await page.evaluate(() => window.demo.train({ steps: 2 }));
  assert.equal(t.task, 'synthetic');
  assert.ok(t.steps.every((s) => Number.isFinite(s.loss)));
});

test('a folder with a missing or malformed file gets an error that names it, and the model stays', { skip }, async () => {
  const broken = mkdtempSync(join(tmpdir(), 'nystromformer-e2e-'));
  const dir = join(broken, 'broken-model');
  mkdirSync(dir);
  try {
    const source = join(FIXTURES, 'mlm-dense-tied');
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) copyFileSync(join(source, f), join(dir, f));
    let status = await pickFolder(dir);
    assert.equal(status.state, 'error');
    assert.match(status.text, /^no model\.safetensors in broken-model: a model folder holds config\.json, model\.safetensors and tokenizer\.json/);

    copyFileSync(join(source, 'model.safetensors'), join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'config.json'), '{"vocab_size": 300,');
    status = await pickFolder(dir);
    assert.equal(status.state, 'error');
    assert.match(status.text, /^config\.json is not valid JSON/);

    copyFileSync(join(source, 'config.json'), join(dir, 'config.json'));
    writeFileSync(join(dir, 'model.safetensors'), new Uint8Array([1, 2, 3]));
    status = await pickFolder(dir);
    assert.equal(status.state, 'error');
    assert.match(status.text, /model\.safetensors/);
  } finally {
    rmSync(broken, { recursive: true, force: true });
  }
  // Dropped files go through the same checks (a script's drop: files without folder entries).
  const dropped = await page.evaluate(async () => {
    const data = new DataTransfer();
    data.items.add(new File(['{}'], 'config.json', { type: 'application/json' }));
    document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    const status = document.getElementById('status')!;
    while (status.dataset.state === 'busy') await new Promise((resolve) => setTimeout(resolve, 20));
    return status.textContent;
  });
  assert.match(dropped ?? '', /^no model\.safetensors, tokenizer\.json in the picked files/);
  // The classifier loaded before is still the page's model.
  assert.match((await page.textContent('#model-name')) ?? '', /^seqcls-single: /);
  assert.equal((await runOnPage()).classes.length, 3);
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
