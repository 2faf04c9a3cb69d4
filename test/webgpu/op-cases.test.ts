/** The shared op cases (op-cases.ts) on Dawn: each agrees with WebAssembly within its tolerance. */
import { before, test } from 'node:test';
import * as E from '../../src/web/core.js';
import { Rng } from '../rng.js';
import { matchesWasm, webgpuBackend } from './backends.js';
import { OP_CASES } from './op-cases.js';

let gpu: E.WebGpuBackend | string;
before(async () => (gpu = await webgpuBackend()));

OP_CASES.forEach((c, k) => {
  test(c.name, async (t) => {
    if (typeof gpu === 'string') return t.skip(gpu);
    await matchesWasm(c.name, () => c.run(E, new Rng(1000 + k)), c.tol, gpu);
  });
});
