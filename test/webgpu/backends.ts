/**
 * The backends a test-suite runs on: WebAssembly always, WebGPU where an adapter exists (in
 * Node: Dawn, over a GPU or over Mesa's llvmpipe). NYSTROMFORMER_WEBGPU_TESTS=required (set by
 * .ci/run) turns a missing adapter into a failure instead of a skip.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe } from 'node:test';
import * as E from '../../src/engine/index.js';
import { assertCloseScaled, readValues } from '../check.js';

let gpu: Promise<E.WebGpuBackend | string> | undefined;

/** The shared WebGPU backend, or why there is none. */
export function webgpuBackend(): Promise<E.WebGpuBackend | string> {
  gpu ??= E.WebGpuBackend.create().catch((e: Error) => {
    if (process.env.NYSTROMFORMER_WEBGPU_TESTS === 'required') throw e;
    return e.message;
  });
  return gpu;
}

/** Runs fn with every op on `b`, then goes back to the WebAssembly backend. */
export async function onBackend<T>(b: E.Backend, fn: () => Promise<T> | T): Promise<T> {
  E.useBackend(b);
  try {
    return await fn();
  } finally {
    E.useBackend(undefined);
  }
}

/**
 * Runs `fn` (which builds its inputs from host data, the same each call) on WebAssembly and on
 * WebGPU, and checks each output of WebGPU against WebAssembly's within tol·max|wasm output|.
 * Returns the WebGPU values (or undefined where there is no WebGPU: the test is then skipped).
 */
export async function matchesWasm(name: string, fn: () => E.Tensor[], tol: number, gpuBackend: E.Backend): Promise<Float32Array[]> {
  const expected = await readValues(fn);
  const got = await onBackend(gpuBackend, async () => {
    const out = await readValues(fn);
    assert.equal(gpuBackend.bytesInUse, 0, `${name}: tensors left on the GPU`);
    return out;
  });
  expected.forEach((e, k) => assertCloseScaled(got[k], e, tol, `${name}: output ${k}`));
  return got;
}

/**
 * Declares `suite` once per backend: as it is (WebAssembly), and inside a `webgpu` describe block
 * whose tests run with every op on WebGPU — skipped, with the reason, where there is no adapter.
 */
export async function onEveryBackend(suite: () => void): Promise<void> {
  const gpu = await webgpuBackend();
  describe('wasm', () => {
    // The switch to WebGPU is refused while tensors live on WebAssembly: a leak fails here, named.
    afterEach((t) => assert.equal(E.backend().bytesInUse, 0, `${t.name}: tensors left alive`));
    suite();
  });
  describe('webgpu', typeof gpu === 'string' ? { skip: gpu } : {}, () => {
    before(() => typeof gpu !== 'string' && E.useBackend(gpu));
    afterEach((t) => assert.equal(E.backend().bytesInUse, 0, `${t.name}: tensors left alive`));
    after(() => E.useBackend(undefined));
    suite();
  });
}
