/** The demo page served by `nystromformer serve`'s server and open in headless Chromium, for the browser tests. */
import type { Browser, Page } from 'playwright-core';
import { backend } from '../../src/index.js';
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
export async function openDemoPage(query: string, options: { consoleErrors?: boolean; prepare?: (page: Page) => Promise<void> } = {}): Promise<DemoPage> {
  const browser = await launchChromium(); // first: without Chromium, fail with the install line
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
