/**
 * The Hugging Face–compatible models against the committed PyTorch fixtures
 * (scripts/fixtures/make_model_fixtures.py), from both weight formats, through the same code as
 * `verify-model`; and the model commands end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyModel } from '../src/cli/verify-model.js';
import { readSafetensorsSync, toFloat32, writeSafetensorsSync, type TensorToWrite } from '../src/io/safetensors.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dir = join(repo, 'test/fixtures/models');
const folders = readdirSync(dir).sort();
const cli = (args: string[], input?: string) => spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), ...args], { encoding: 'utf8', input, timeout: 120_000 });

test('fixtures cover every architecture, both attention branches, conv on and off, padding, token types', () => {
  const architectures = new Set(folders.map((f) => readSafetensorsSync(join(dir, f, 'expected.safetensors')).metadata.architecture));
  assert.deepEqual([...architectures].sort(), [
    'NystromformerForMaskedLM', 'NystromformerForMultipleChoice', 'NystromformerForQuestionAnswering',
    'NystromformerForSequenceClassification', 'NystromformerForTokenClassification', 'NystromformerModel',
  ]);
});

for (const folder of folders) {
  for (const format of ['safetensors', 'bin'] as const) {
    test(`matches PyTorch: ${folder} (${format})`, async () => {
      const r = await verifyModel(join(dir, folder), format);
      assert.ok(r.ok, JSON.stringify(r));
      // every output the fixture holds is compared, each within the fixture's tolerance
      const expected = readSafetensorsSync(join(dir, folder, 'expected.safetensors'));
      const tolerance = Number(expected.metadata.tolerance ?? 1e-4);
      const outputs = ['last_hidden_state', 'logits', 'start_logits', 'end_logits'].filter((o) => expected.tensors.has(o));
      assert.deepEqual(Object.keys(r.max_abs_err).sort(), outputs.sort());
      for (const [name, err] of Object.entries(r.max_abs_err)) assert.ok(err >= 0 && err <= tolerance, `${name}: ${err} > ${tolerance}`);
    });
  }
}

test('verify-model fails on a changed weight, and names a missing one', async () => {
  const copy = mkdtempSync(join(tmpdir(), 'nystromformer-verify-'));
  try {
    cpSync(join(dir, 'base-dense'), copy, { recursive: true });
    unlinkSync(join(copy, 'pytorch_model.bin'));
    const file = readSafetensorsSync(join(copy, 'model.safetensors'));
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, t] of file.tensors) tensors[name] = { dtype: 'F32', shape: t.shape, data: toFloat32(t, name) };
    const key = 'encoder.layer.1.attention.self.conv.weight';
    (tensors[key].data as Float32Array)[0] += 0.01;
    writeSafetensorsSync(join(copy, 'model.safetensors'), tensors, file.metadata);
    const r = await verifyModel(copy, 'safetensors');
    assert.equal(r.ok, false);
    const tolerance = Number(readSafetensorsSync(join(copy, 'expected.safetensors')).metadata.tolerance ?? 1e-4);
    assert.ok(Math.max(...Object.values(r.max_abs_err)) > tolerance, `a changed weight must move an output past ${tolerance}: ${JSON.stringify(r.max_abs_err)}`);
    const run = cli(['verify-model', copy, '--json']);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(JSON.parse(run.stdout.trim()).ok, false);
    delete tensors[key];
    writeSafetensorsSync(join(copy, 'model.safetensors'), tensors, file.metadata);
    await assert.rejects(verifyModel(copy, 'safetensors'), /newly initialized: \["encoder\.layer\.1\.attention\.self\.conv\.weight"\]/);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test('CLI: verify-model, fill-mask, classify (a pair), embed from standard input', () => {
  const verify = cli(['verify-model', join(dir, 'qa'), '--json']);
  assert.equal(verify.status, 0, verify.stderr);
  const lines = verify.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.weights), ['safetensors', 'bin']);
  assert.ok(lines.every((l) => l.ok && l.model.endsWith('qa')));

  const fill = cli(['fill-mask', '--model', join(dir, 'mlm-dense-tied'), '--json', '--top-k', '3', 'paris is the [MASK] of france.']);
  assert.equal(fill.status, 0, fill.stderr);
  const filled = JSON.parse(fill.stdout);
  assert.equal(filled.masks.length, 1);
  assert.equal(filled.masks[0].length, 3);
  assert.ok(filled.masks[0][0].score >= filled.masks[0][1].score);

  const cls = cli(['classify', '--model', join(dir, 'seqcls-single'), '--json', '--pair', 'it was fine.', 'a good movie']);
  assert.equal(cls.status, 0, cls.stderr);
  const labels = JSON.parse(cls.stdout).labels;
  assert.deepEqual(labels.map((l: { label: string }) => l.label).sort(), ['negative', 'neutral', 'positive']);
  assert.ok(Math.abs(labels.reduce((s: number, l: { score: number }) => s + l.score, 0) - 1) < 1e-5);

  const embed = cli(['embed', '--model', join(dir, 'seqcls-single'), '--json', '--attention', 'nystrom', '--landmarks', '2'], 'a good movie\nthe capital of france\n');
  assert.equal(embed.status, 0, embed.stderr);
  const vectors = embed.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(vectors.length, 2);
  assert.equal(vectors[0].dim, 16);

  const long = cli(['classify', '--model', join(dir, 'seqcls-single'), 'good '.repeat(40)]);
  assert.equal(long.status, 1);
  assert.match(long.stderr, /longer than the model's position table \(max_position_embeddings = 32\)/);
});
