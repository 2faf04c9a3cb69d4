/**
 * Nyström and softmax attention against the committed PyTorch fixtures
 * (scripts/fixtures/make_attention_fixtures.py), through the same code as `verify-attention`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyAttentionFixture } from '../src/cli/verify-attention.js';
import { parseSafetensors, serializeSafetensors, toFloat32 } from '../src/io/safetensors.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dir = join(repo, 'test/fixtures/attention');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();

test('fixtures are there: both variants, both inits, conv and none, masks, uneven n, softmax', () => {
  assert.ok(fixtures.length >= 10, `only ${fixtures.length} fixtures`);
  const metas = fixtures.map((f) => parseSafetensors(readFileSync(join(dir, f)), f).metadata);
  assert.ok(metas.some((m) => m.variant === 'hf'));
  assert.ok(metas.some((m) => (m.variant ?? 'original') === 'original' && m.init === 'exact'));
  assert.ok(metas.some((m) => m.variant === 'softmax'));
  assert.ok(metas.some((m) => m.conv_kernel_size !== '0' && m.conv_kernel_size !== undefined));
});

for (const f of fixtures) {
  test(`matches PyTorch: ${f}`, () => {
    const r = verifyAttentionFixture(join(dir, f));
    assert.ok(r.ok, `${f}: ${JSON.stringify(r.max_rel_err)}`);
    for (const e of Object.values(r.max_rel_err)) assert.ok(e <= 1e-4);
  });
}

test('a wrong expected output is caught, and the command exits 1', () => {
  const f = fixtures.find((x) => x.startsWith('uneven')) ?? fixtures[0];
  const file = parseSafetensors(readFileSync(join(dir, f)), f);
  const tensors: Parameters<typeof serializeSafetensors>[0] = {};
  for (const [name, t] of file.tensors) {
    const data = toFloat32(t, name);
    if (name === 'dk') data[3] += 0.05 * data.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
    tensors[name] = { dtype: 'F32', shape: t.shape, data };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'nf-verify-'));
  writeFileSync(join(tmp, f), serializeSafetensors(tensors, file.metadata));
  const r = verifyAttentionFixture(join(tmp, f));
  assert.equal(r.ok, false);
  assert.ok(r.max_rel_err.dk > 1e-2 && r.max_rel_err.out < 1e-4);
  const cli = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'verify-attention', tmp, '--json'], { encoding: 'utf8' });
  assert.equal(cli.status, 1, cli.stderr);
  const line = JSON.parse(cli.stdout.trim().split('\n')[0]);
  assert.equal(line.case, f.replace('.safetensors', ''));
  assert.equal(line.ok, false);
});
