/** Debian's Chromium driven by playwright-core (which downloads no browser), for the browser tests and benches. */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Why the browser tests are skipped (Chromium absent on a machine that did not ask for them), or false.
 * `.ci/run` installs Chromium and sets NYSTROMFORMER_BROWSER_TESTS=required, so there its absence fails.
 */
export function browserTestsSkipped(): string | false {
  if (existsSync(CHROMIUM) || process.env.NYSTROMFORMER_BROWSER_TESTS === 'required') return false;
  return `${CHROMIUM} not found: install Debian's Chromium (\`apt-get install -y chromium\`) to run the browser tests`;
}

/** Headless Chromium, or an error that says how to install it; `--enable-unsafe-webgpu` gives pages a WebGPU adapter (SwiftShader without a GPU). */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: the browser tests need Debian's Chromium; install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}
