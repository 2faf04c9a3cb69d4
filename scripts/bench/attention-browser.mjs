// `nystromformer bench attention --json`, measured inside headless Chromium by the demo page
// (its Web Worker, on the kernel pool): the same JSON lines, with "where":"chromium".
//   npx tsc -p . && node scripts/bench/attention-browser.mjs [--n 4096,16384] [--impl nystrom,softmax] [--threads T] [--seconds S]
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { demoMounts, startServer } from '../../dist/src/cli/serve-command.js';
import { launchChromium } from '../../dist/test/browser/chromium.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '4096,16384' },
    impl: { type: 'string', default: 'nystrom' },
    threads: { type: 'string', default: String(availableParallelism()) },
    seconds: { type: 'string', default: '1' },
  },
});
const lengths = values.n.split(',').map(Number);
const impls = values.impl.split(',');
const server = await startServer({ mounts: demoMounts(), port: 0 });
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[chromium] ${e.message}`));
  await page.goto(`${server.url}?threads=${values.threads}`);
  const ready = await page.evaluate(() => window.demo.ready);
  const options = {
    nystrom: impls.includes('nystrom') ? lengths : [],
    softmax: impls.includes('softmax') ? lengths : [],
    seconds: Number(values.seconds),
  };
  const timings = await page.evaluate((o) => window.demo.bench(o), options);
  for (const t of timings) {
    const round = (x) => Math.round(x * 10) / 10;
    console.log(JSON.stringify({ bench: 'attention', impl: t.impl, n: t.n, pass: 'fwd', ms: round(t.ms), peak_mb: round(t.peakMb), where: 'chromium', chromium: browser.version(), threads: ready.threads }));
  }
} finally {
  await browser.close();
  await server.close();
}
