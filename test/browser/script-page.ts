/**
 * A one-script test page in headless Chromium: the script (a module) sets `window.result` to a
 * promise; the page is served cross-origin isolated from a temporary folder holding it and `files`,
 * beside `mounts`; what the promise resolves to comes back, or a failure with the page's console.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/cli/serve-command.js';
import { launchChromium } from './chromium.js';

export interface ScriptPageOptions {
  /** Files beside the page (fetched as './name'). */
  files?: Record<string, string | Uint8Array>;
  /** URL prefix → folder, e.g. { '/dist/': 'dist' }. */
  mounts?: Record<string, string>;
  chromiumFlags?: readonly string[];
}

export async function evaluateScriptPage<T>(script: string, options: ScriptPageOptions = {}): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'script-page-'));
  const page = `<!doctype html>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n<script type="module">\n${script}\n</script>\n`;
  writeFileSync(join(dir, 'index.html'), page);
  for (const [name, data] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), data);
  const server = await startServer({ mounts: { '/t/': dir, ...options.mounts } });
  const browser = await launchChromium(options.chromiumFlags);
  try {
    const tab = await browser.newPage();
    const logs: string[] = [];
    tab.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    tab.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await tab.goto(`${server.url}t/`);
    const got = await tab.evaluate(() => (window as unknown as { result: Promise<unknown> }).result) as { failure?: string };
    assert.equal(got.failure, undefined, `${got.failure}\n${logs.join('\n')}`);
    return got as T;
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
