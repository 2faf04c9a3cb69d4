// The recommended browser setup: the engine runs inside a module Web Worker, where the caller's
// wait between kernel threads can sleep in Atomics.wait.
import * as E from '/dist/src/web/core.js';
import { initEngine } from '/dist/src/engine/engine.js';
import { describeError, run } from './smoke-compute.mjs';

self.addEventListener('message', async () => {
  try {
    self.postMessage({ ok: true, result: await run(E, initEngine, 2) });
  } catch (e) {
    self.postMessage({ ok: false, error: describeError(e) });
  }
}, { once: true });
