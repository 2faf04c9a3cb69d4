/**
 * `nystromformer export`: the folder layout transformers.js reads, weights inline or as external
 * data (onnx/model.onnx_data), run on onnxruntime-node against the engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noGrad, Tensor, tidy } from '../src/engine/index.js';
import { NystromformerForQuestionAnswering } from '../src/models/index.js';
import { maxAbsError } from './helpers.js';

const ort = (await import('onnxruntime-node')).default;

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(repo, 'bin/nystromformer.js');
const fixtures = join(repo, 'test/fixtures/models');

function exportWith(args: string[]): { out: string; report: Record<string, unknown> } {
  const out = mkdtempSync(join(tmpdir(), 'nystromformer-export-'));
  const stdout = execFileSync(process.execPath, [cli, 'export', '--out', out, '--json', ...args], { encoding: 'utf8' });
  return { out, report: JSON.parse(stdout) };
}

/** start/end logits of the QA fixture model on a fixed batch: engine, and the exported folder on onnxruntime. */
async function compare(out: string, landmarks: number): Promise<number> {
  const model = await NystromformerForQuestionAnswering.fromPretrained(join(fixtures, 'qa'), { attention: 'nystrom', numLandmarks: landmarks });
  const B = 2;
  const n = 13;
  const ids = Int32Array.from({ length: B * n }, (_, i) => (i * 7 + 3) % model.config.vocab_size);
  try {
    const want = noGrad(() => tidy(() => {
      const o = model.forward({ inputIds: Tensor.from(ids, [B, n], 'int32') });
      return [o.startLogits.toArray() as Float32Array, o.endLogits.toArray() as Float32Array];
    }));
    // from the path, so that onnxruntime finds the external data beside the model
    const session = await ort.InferenceSession.create(join(out, 'onnx/model.onnx'));
    const t = (data: Int32Array) => new ort.Tensor('int64', BigInt64Array.from(data, (v) => BigInt(v)), [B, n]);
    const got = await session.run({ input_ids: t(ids), attention_mask: t(new Int32Array(B * n).fill(1)), token_type_ids: t(new Int32Array(B * n)) });
    await session.release();
    return Math.max(maxAbsError(got.start_logits.data as Float32Array, want[0]), maxAbsError(got.end_logits.data as Float32Array, want[1]));
  } finally {
    model.dispose();
  }
}

const readJSON = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

test('export writes the tokenizer files unchanged, config.json for transformers.js, and onnx/model.onnx', () => {
  const source = join(fixtures, 'mlm-dense-tied');
  const { out, report } = exportWith(['--model', source]);
  try {
    assert.equal(report.architecture, 'NystromformerForMaskedLM');
    assert.equal(report.externalData, false);
    assert.equal(report.external_data, false);
    assert.equal(report.weight_bytes, report.weightBytes);
    assert.deepEqual(report.outputs, ['logits', 'last_hidden_state']);
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
      assert.deepEqual(readFileSync(join(out, f)), readFileSync(join(source, f)), f);
    }
    // the source's config, plus the file transformers.js must load (in browsers it would look for model_quantized.onnx)
    const { architectures, 'transformers.js_config': tjs, ...rest } = readJSON(join(out, 'config.json'));
    const { architectures: sourceArchitectures, ...sourceRest } = readJSON(join(source, 'config.json'));
    assert.deepEqual(rest, sourceRest);
    assert.deepEqual(architectures, sourceArchitectures);
    assert.deepEqual(tjs, { dtype: 'fp32' });
    assert.ok(statSync(join(out, 'onnx/model.onnx')).size > 0);
  } finally {
    rmSync(out, { recursive: true });
  }
});

test('config.json names the exported architecture and attention, and announces external data', () => {
  const { out, report } = exportWith([
    '--model', join(fixtures, 'mlm-dense-tied'), '--architecture', 'NystromformerModel', '--attention', 'nystrom', '--landmarks', '4', '--external-data',
  ]);
  try {
    assert.deepEqual(report.outputs, ['last_hidden_state']);
    const config = readJSON(join(out, 'config.json'));
    assert.deepEqual(config.architectures, ['NystromformerModel']);
    assert.deepEqual(config['transformers.js_config'], { dtype: 'fp32', use_external_data_format: true });
    assert.deepEqual(config.nystromformer_attention, { mode: 'nystrom', num_landmarks: 4, pinv_init: 'original', pinv_iterations: 6 });
  } finally {
    rmSync(out, { recursive: true });
  }
});

for (const external of [false, true]) {
  test(`exported folder = engine on onnxruntime, weights ${external ? 'as external data' : 'inline'}`, async () => {
    const args = ['--model', join(fixtures, 'qa'), '--attention', 'nystrom', '--landmarks', '4'];
    const { out, report } = exportWith([...args, ...(external ? ['--external-data'] : [])]);
    try {
      assert.equal(report.externalData, external);
      if (external) {
        // the weights left model.onnx (which gains a location entry per tensor) for the data file (4096-aligned, so bigger)
        const inline = exportWith(args).out;
        const size = (dir: string, f: string) => statSync(join(dir, 'onnx', f)).size;
        assert.ok(size(out, 'model.onnx_data') >= (report.weightBytes as number));
        assert.ok(size(inline, 'model.onnx') - size(out, 'model.onnx') >= 0.8 * (report.weightBytes as number));
        rmSync(inline, { recursive: true });
      }
      const err = await compare(out, 4);
      console.log(JSON.stringify({ case: `qa export ${external ? 'external data' : 'inline'}`, max_abs_err: err }));
      assert.ok(err <= 1e-4, `max abs error ${err}`);
    } finally {
      rmSync(out, { recursive: true });
    }
  });
}

test('export names what is wrong', () => {
  const run = (args: string[]) => {
    try {
      execFileSync(process.execPath, [cli, 'export', ...args], { encoding: 'utf8', stdio: 'pipe' });
      return '';
    } catch (e) {
      return String((e as { stderr: string }).stderr);
    }
  };
  const out = join(tmpdir(), 'nystromformer-export-never');
  assert.match(run(['--model', join(fixtures, 'qa'), '--out', out, '--landmarks', '4']), /--landmarks applies to --attention nystrom only/);
  assert.match(run(['--model', join(repo, 'test/fixtures'), '--out', out]), /no config\.json/);
});
