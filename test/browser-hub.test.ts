/**
 * Models by Hub id in the demo page (headless Chromium): the page, cross-origin isolated, fetches
 * from the stand-in Hub on another origin (CORS, CORP), loads `test-org/mlm` by name and its fill-mask
 * matches Node's on the same fixture; a second load comes from the Cache API with no request to the
 * Hub; the resolver's progress events are the Node client's; a sharded checkpoint (the shipped
 * tiny-mlm, 4096 positions) runs Nyström attention on a long document as Node does; a repository
 * with only pytorch_model.bin (as the published uw-madison checkpoints) loads through the restricted
 * unpickler and matches Node; one with only a sharded .bin gets an error saying why.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { fillMask, NystromformerForMaskedLM, resolveModelDir, Tokenizer } from '../src/index.js';
import { browserTestsSkipped } from './browser/chromium.js';
import { closeDemoPage, openDemoPage, type DemoPage } from './browser/demo-page.js';
import { FIXTURES, sharded, startHub } from './hub-fixtures.js';
import { folderFiles } from './hub-server.js';
import type { HubServer } from './hub-server.js';
import { maxAbsError, withTempDir } from './helpers.js';

const TINY = fileURLToPath(new URL('../../web/models/tiny-mlm', import.meta.url));
const skip = browserTestsSkipped();

let hub: HubServer;
let demo: DemoPage | undefined;
let page: Page;

before(async () => {
  if (skip) return;
  hub = await startHub();
  hub.addRepo('test-org/tiny-mlm-sharded', { files: sharded(TINY, (n) => n !== 'model.safetensors'), commit: 'f'.repeat(40) });
  const bin = folderFiles(join(FIXTURES, 'mlm-dense-tied'), (n) => n !== 'model.safetensors' && n !== 'expected.safetensors');
  hub.addRepo('test-org/mlm-bin', { files: bin, commit: '9'.repeat(40) });
  const binSharded = folderFiles(join(FIXTURES, 'mlm-dense-tied'), (n) => n === 'config.json' || n === 'tokenizer.json');
  binSharded.set('pytorch_model.bin.index.json', new TextEncoder().encode('{"weight_map":{}}'));
  hub.addRepo('test-org/bin-sharded', { files: binSharded, commit: '8'.repeat(40) });
  // Chromium's HTTP cache off: what is not fetched again came from the Cache API.
  const noHttpCache = async (p: Page) => {
    const cdp = await p.context().newCDPSession(p);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  };
  demo = await openDemoPage(`?threads=2&hub=${encodeURIComponent(hub.url)}`, { prepare: noHttpCache });
  page = demo.page;
  await page.evaluate(() => window.demo.ready);
});

after(async () => {
  await closeDemoPage(demo);
  await hub?.stop();
});

/** Types an id in the page's Hub field, presses the button, and returns the status line once the load ends. */
async function loadById(id: string): Promise<{ state: string; text: string }> {
  await page.fill('#hub-id', id);
  await page.click('#hub-load');
  await page.waitForFunction(() => document.getElementById('status')!.dataset.state !== 'busy', null, { timeout: 60_000 });
  return page.$eval('#status', (e) => ({ state: (e as HTMLElement).dataset.state ?? '', text: e.textContent ?? '' }));
}

/** The page's fill-mask on `text` against Node's on the model folder `dir` (Nyström attention). */
async function assertFillMaskMatches(dir: string, text: string): Promise<void> {
  await page.fill('#doc-a', text);
  const fill = await page.evaluate(async () => (await window.demo.run()).fill);
  const tokenizer = await Tokenizer.fromDir(dir);
  const model = await NystromformerForMaskedLM.fromPretrained(dir, { attention: 'nystrom', strict: true });
  try {
    const node = await fillMask(model, tokenizer, text, { topK: 5 });
    assert.equal(fill.length, node.length);
    assert.ok(node.length >= 1);
    node.forEach((candidates, i) => {
      assert.deepEqual(fill[i].tokens, candidates.map((c) => c.token), `mask ${i}: the same top tokens`);
      const worst = maxAbsError(fill[i].scores, candidates.map((c) => c.score));
      assert.ok(worst <= 1e-4, `mask ${i}: max |browser − node| = ${worst}`);
    });
  } finally {
    model.dispose();
  }
}

test('the page loads test-org/mlm by Hub id, matches Node, and loads it again from the Cache API', { skip }, async () => {
  const status = await loadById('test-org/mlm');
  assert.deepEqual(status, { state: 'ready', text: 'loaded test-org/mlm' });
  assert.match((await page.textContent('#model-name')) ?? '', /^test-org\/mlm: NystromformerForMaskedLM, 2 layers/);
  assert.equal(hub.count('/test-org/mlm/resolve/main/model.safetensors'), 1);
  assert.equal(hub.count('/lfs/'), 1, 'the weights came through the LFS redirect to the content host');
  const dir = join(FIXTURES, 'mlm-dense-tied');
  await assertFillMaskMatches(dir, 'Landmarks summarise a long [MASK] in a few rows, and the [MASK] is cheap.');

  const before = hub.requests.length;
  assert.deepEqual(await loadById('test-org/mlm'), status);
  assert.equal(hub.requests.length, before, `no request to the Hub: ${hub.requests.slice(before).map((r) => r.url).join(', ')}`);
  const cached = await page.evaluate(async () => (await (await caches.open('nystromformer-hub')).keys()).map((r) => new URL(r.url).pathname));
  assert.deepEqual(cached.sort(), ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => `/test-org/mlm/resolve/main/${f}`));
  await assertFillMaskMatches(dir, 'Landmarks summarise a long [MASK] in a few rows.');
  // A revision after '@': its own URLs, fetched once.
  assert.equal((await loadById('test-org/mlm@v1.0')).text, 'loaded test-org/mlm@v1.0');
  assert.equal(hub.count('/test-org/mlm/resolve/v1.0/model.safetensors'), 1);
});

test("the browser's resolver sends the Node client's progress events, and only initiate, done, ready from the Cache API", { skip }, async () => {
  // Consecutive 'progress' events as one: how many arrive depends on the chunks.
  const squeeze = (events: string[]) => events.filter((e, i) => !(e.startsWith('progress') && events[i - 1] === e));
  const inPage = (cacheName: string | null) => page.evaluate(async ([endpoint, name]) => {
    const entry = '/dist/src/web/index.js'; // the page's own copy of the web entry
    const { fetchHubModel } = (await import(entry)) as typeof import('../src/web/index.js');
    const events: string[] = [];
    await fetchHubModel('test-org/mlm', { endpoint, cacheName: name, progressCallback: (e) => events.push(`${e.status} ${e.file}`) });
    return events;
  }, [hub.url, cacheName] as const);
  const node: string[] = [];
  await withTempDir('browser-hub-', async (cacheDir) => {
    await resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url, progressCallback: (e) => node.push(`${e.status} ${e.file}`) });
  })();
  assert.deepEqual(squeeze(await inPage(null)), squeeze(node));
  const cached = await inPage('nystromformer-hub');
  assert.deepEqual(cached, node.filter((e) => /^(initiate|done|ready) /.test(e)));
});

test('a sharded checkpoint by Hub id runs Nyström attention on a long document as Node does', { skip }, async () => {
  assert.equal((await loadById('test-org/tiny-mlm-sharded')).text, 'loaded test-org/tiny-mlm-sharded');
  assert.equal(hub.count('/test-org/tiny-mlm-sharded/resolve/main/model-0000'), 2, `both shards fetched: ${hub.requests.map((r) => r.url).join(', ')}`);
  const text = Array.from({ length: 60 }, (_, i) => `sentence ${i} of a long document about landmarks and the [MASK] they summarise.`).join(' ');
  const tokens = (await Tokenizer.fromDir(TINY)).encode(text).inputIds.length;
  assert.ok(tokens > 600, `only ${tokens} tokens: not past the landmarks`);
  await assertFillMaskMatches(TINY, text);
});

test('a repository with only pytorch_model.bin (as the published checkpoints) loads by id and matches Node; a sharded .bin is refused by name', { skip }, async () => {
  assert.deepEqual(await loadById('test-org/mlm-bin'), { state: 'ready', text: 'loaded test-org/mlm-bin' });
  assert.equal(hub.count('/test-org/mlm-bin/resolve/main/pytorch_model.bin'), 1);
  await assertFillMaskMatches(join(FIXTURES, 'mlm-dense-tied'), 'Landmarks summarise a long [MASK] in a few rows.');
  const status = await loadById('test-org/bin-sharded');
  assert.equal(status.state, 'error');
  assert.match(status.text, /^test-org\/bin-sharded at revision 'main' has only a sharded pytorch_model\.bin \(pytorch_model\.bin\.index\.json\), which the page does not read/);
  assert.match((await loadById('test-org/nothing')).text, /repository 'test-org\/nothing' not found on the Hub/);
  assert.match((await page.textContent('#model-name')) ?? '', /^test-org\/mlm-bin: /, 'a failed load leaves the model that was loaded');
  assert.deepEqual(demo?.errors, []);
});
