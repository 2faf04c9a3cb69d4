// Browser smoke test of the engine alone (the demo's end-to-end test, test/browser-e2e.test.ts, runs
// under npm test): serves this folder with `nystromformer serve`'s server, runs the engine in headless
// Chromium (in a Web Worker and on the window's main thread) and compares with the same computation in Node.
//   apt-get install -y chromium
//   npx tsc -p . && node test/browser/smoke.mjs
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from '../../dist/src/index.js';
import { initEngine } from '../../dist/src/engine/engine.js';
import { startServer } from '../../dist/src/cli/serve-command.js';
import { launchChromium } from '../../dist/test/browser/chromium.js';
import { run } from './smoke-compute.mjs';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TOLERANCE = 1e-5;

/** `nystromformer serve`'s server with this folder mounted; `?isolated=0` serves a file without the isolation headers. */
function serve() {
  return startServer({
    port: 0,
    mounts: { '/test/browser/': resolve(ROOT, 'test/browser'), '/dist/src/': resolve(ROOT, 'dist/src'), '/dist/kernels/': resolve(ROOT, 'dist/kernels') },
    onRequest: (status, path) => {
      if (process.env.SMOKE_VERBOSE || status !== 200) console.log(`  [server] ${status} ${path}`);
    },
  });
}

async function openPage(browser, url) {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(`  [chromium ${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => console.log(`  [chromium pageerror] ${e.message}`));
  await page.goto(url);
  const result = await page.evaluate(() => window.smoke);
  await page.close();
  return result;
}

function compare(name, got, want) {
  if (got.length !== want.length) return { name, ok: false, detail: `length ${got.length} ≠ ${want.length}` };
  let maxAbs = 0;
  let worst = 0; // |got − want| / max(1, |want|)
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    maxAbs = Math.max(maxAbs, d);
    worst = Math.max(worst, d / Math.max(1, Math.abs(want[i])));
  }
  return { name, ok: worst <= TOLERANCE, detail: `max |Δ| ${maxAbs.toExponential(2)}, max |Δ|/max(1,|ref|) ${worst.toExponential(2)}` };
}

const checks = [];
const check = (name, ok, detail = '') => checks.push({ name, ok: Boolean(ok), detail });

const server = await serve();
const origin = server.url.slice(0, -1);
const browser = await launchChromium();
try {
  console.log(`chromium ${browser.version()}, node ${process.version}, serving ${ROOT} at ${origin}`);
  const node = await run(E, initEngine, 2);
  const page = await openPage(browser, `${origin}/test/browser/smoke.html`);
  if (page.failure) throw new Error(`the page failed: ${page.failure}`);
  check('page is cross-origin isolated', page.isolated);
  check('backend() before initEngine names initEngine', /initEngine/.test(page.syncError ?? ''), page.syncError?.split('\n')[0]);
  for (const where of ['worker', 'main']) {
    const r = page[where];
    console.log(`${where}: build ${r.build}, threads ${r.threads}, shares per thread ${JSON.stringify(r.shares)}, gelu sum ${r.geluSum}`);
    console.log(`  matmul[0..3] ${r.matmul.slice(0, 4).map((v) => v.toFixed(6)).join(' ')}  softmax[0..3] ${r.softmax.slice(0, 4).map((v) => v.toExponential(6)).join(' ')}`);
    check(`${where}: 2 threads`, r.threads === 2, `threads ${r.threads}`);
    check(`${where}: thread 1 ran kernel shares`, r.shares.length === 2 && r.shares[1] > 0, `shares ${JSON.stringify(r.shares)}`);
    check(`${where}: relaxed SIMD build (Chromium validates it)`, r.build === 'relaxed', r.build);
    for (const key of ['matmul', 'softmax']) {
      const c = compare(`${where}: ${key} vs node`, r[key], node[key]);
      checks.push(c);
    }
    checks.push(compare(`${where}: gelu sum vs node`, [r.geluSum], [node.geluSum]));
  }
  console.log(`node:   build ${node.build}, threads ${node.threads}, shares per thread ${JSON.stringify(node.shares)}, gelu sum ${node.geluSum}`);
  console.log(`  matmul[0..3] ${node.matmul.slice(0, 4).map((v) => v.toFixed(6)).join(' ')}  softmax[0..3] ${node.softmax.slice(0, 4).map((v) => v.toExponential(6)).join(' ')}`);

  const plain = await openPage(browser, `${origin}/test/browser/smoke.html?isolated=0`);
  const message = plain.error ?? '';
  check('without COOP/COEP: not isolated', plain.isolated === false);
  check(
    'without COOP/COEP: initEngine names both headers',
    message.includes('Cross-Origin-Opener-Policy: same-origin') && message.includes('Cross-Origin-Embedder-Policy: require-corp'),
    message.split('\n')[0],
  );
} finally {
  await browser.close();
  await server.close();
  E.backend().close();
}

for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
const failed = checks.filter((c) => !c.ok).length;
console.log(failed ? `${failed} of ${checks.length} checks failed` : `all ${checks.length} checks passed`);
process.exitCode = failed ? 1 : 0;
