/**
 * The kernel-level checks beside the AssemblyScript sources, run on the built modules: every
 * export against a float64 reference, every thread split bit-identical, both builds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const builds = ['dist/kernels/simd.wasm', 'dist/kernels/relaxed.wasm'];

function check(script: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, [script, ...args], { cwd: repo, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, `${script} failed:\n${out.split('\n').filter((l) => /FAIL|Error/.test(l)).slice(0, 20).join('\n') || out.slice(-2000)}`);
  return out;
}

test('GEMM kernel: odd shapes, strides, transposes, batches, alpha/beta, thread splits (both builds)', () => {
  const out = check('src/engine/kernels/gemm.check.mjs', [], { GEMM_SIMD: builds[0], GEMM_RELAXED: builds[1] });
  assert.match(out, /simd: (\d+)\/\1 cases ok/);
  assert.match(out, /relaxed: (\d+)\/\1 cases ok/);
});

test('elementwise, reduction, indexing, conv and RNG kernels (both builds)', () => {
  const out = check('src/engine/kernels/kernels.check.mjs', builds);
  assert.match(out, /all kernel checks passed/);
});
