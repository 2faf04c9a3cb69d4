/**
 * The WebGPU backend in headless Chromium (SwiftShader's adapter without a GPU): every shared op
 * case (test/webgpu/op-cases.ts), forward and backward, agrees with the WebAssembly backend of the
 * same page within the case's tolerance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserTestsSkipped } from './browser/chromium.js';
import { evaluateScriptPage } from './browser/script-page.js';
import { assertCloseScaled } from './check.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

// the page's script: every case on WebAssembly, then on WebGPU
const SCRIPT = `
import * as E from '/dist/src/web/core.js';
import { OP_CASES } from '/dist/test/webgpu/op-cases.js';
import { Rng } from '/dist/test/rng.js';
import { readValues } from '/dist/test/read-values.js';
window.result = (async () => {
  await E.initEngine({ threads: 1 });
  const gpu = await E.WebGpuBackend.create();
  const cases = [];
  for (const [k, c] of OP_CASES.entries()) {
    const run = () => readValues(() => c.run(E, new Rng(1000 + k)));
    try {
      const wasm = await run();
      E.useBackend(gpu);
      try {
        cases.push({ name: c.name, tol: c.tol, wasm: wasm.map((v) => Array.from(v)), webgpu: (await run()).map((v) => Array.from(v)) });
      } finally {
        E.useBackend(undefined);
      }
    } catch (e) {
      cases.push({ name: c.name, error: String(e && e.stack || e) });
    }
  }
  return { adapter: gpu.adapterName, cases };
})().catch((e) => ({ failure: String(e && e.stack || e) }));
`;

interface PageResult {
  adapter: string;
  cases: { name: string; tol: number; wasm: number[][]; webgpu: number[][]; error?: string }[];
}

test('WebGPU in Chromium: every op case matches WebAssembly', { skip: browserTestsSkipped() }, async () => {
  const got = await evaluateScriptPage<PageResult>(SCRIPT, { mounts: { '/dist/': resolve(root, 'dist') }, chromiumFlags: ['--enable-unsafe-webgpu'] });
  console.log(`Chromium's adapter: ${got.adapter}; ${got.cases.length} cases`);
  for (const c of got.cases) {
    assert.equal(c.error, undefined, `${c.name}: ${c.error}`);
    c.wasm.forEach((w, k) => assertCloseScaled(c.webgpu[k], w, c.tol, `${c.name}: output ${k}`));
  }
});
