/** The demo page served by `nystromformer serve`'s server and open in headless Chromium, for the browser tests. */
import type { Browser, Page } from 'playwright-core';
import { backend, NystromformerForMaskedLM, Tokenizer } from '../../src/index.js';
import { maskedTextExamples } from '../../src/data/masking.js';
import { DEMO_TRAINING, trainSteps, type TrainStep } from '../../src/web/demo-train.js';
import { demoMounts, startServer, type RunningServer } from '../../src/cli/serve-command.js';
import { launchChromium } from './chromium.js';

export interface DemoPage {
  browser: Browser;
  server: RunningServer;
  page: Page;
  /** The page's uncaught errors (and console errors, when asked for). */
  errors: string[];
}

/** Opens the page at `query` ('?threads=2…'); `prepare` runs before it loads. */
export async function openDemoPage(query: string, options: { consoleErrors?: boolean; webgpu?: boolean; prepare?: (page: Page) => Promise<void> } = {}): Promise<DemoPage> {
  // first: without Chromium, fail with the install line; with webgpu, pages get an adapter (SwiftShader without a GPU)
  const browser = await launchChromium(options.webgpu ? ['--enable-unsafe-webgpu'] : []);
  const server = await startServer({ mounts: demoMounts(), port: 0 });
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (options.consoleErrors) page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await options.prepare?.(page);
  await page.goto(`${server.url}${query}`);
  return { browser, server, page, errors };
}

export async function closeDemoPage(demo: DemoPage | undefined): Promise<void> {
  await demo?.browser.close();
  await demo?.server.close();
  backend().close();
}

/** The demo's first `steps` training steps computed in Node: the same text (document A), examples, seed and loop. */
export async function nodeTraining(page: Page, model: string, steps: number): Promise<{ examples: number; steps: TrainStep[] }> {
  const tokenizer = await Tokenizer.fromDir(model);
  const examples = maskedTextExamples(tokenizer, await page.inputValue('#doc-a'), DEMO_TRAINING.seqLen, DEMO_TRAINING.seed);
  const mlm = await NystromformerForMaskedLM.fromPretrained(model, { attention: 'nystrom', strict: true });
  try {
    return { examples: examples.length, steps: await trainSteps(mlm, examples, { ...DEMO_TRAINING, steps, padId: tokenizer.padTokenId }) };
  } finally {
    mlm.dispose();
  }
}
