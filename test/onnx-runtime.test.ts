/**
 * runtime 'onnx' (setRuntime, fromPretrained's runtime, --runtime): the same results as the engine
 * within 1e-4, from the API (heads, padded batches, attention changes) and from the fill-mask,
 * classify, embed and verify-model commands (eval's is in train.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noGrad, Tensor, tidy } from '../src/engine/index.js';
import { loadModel, NystromformerForQuestionAnswering, NystromformerModel } from '../src/models/index.js';
import { provideOnnxRuntime, runtimeOf, setRuntime } from '../src/runtime/index.js';

provideOnnxRuntime(); // runtime 'onnx' for fromPretrained and loadModel
const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(repo, 'bin/nystromformer.js');
const fixtures = join(repo, 'test/fixtures/models');
const TOLERANCE = 1e-4;

/** Every number in two JSON values that must otherwise be equal: the largest difference. */
function maxNumberDiff(a: unknown, b: unknown, path = ''): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b);
  if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${path}: lengths`);
    return Math.max(0, ...a.map((x, i) => maxNumberDiff(x, b[i], `${path}[${i}]`)));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${path}: keys`);
    return Math.max(0, ...Object.keys(a).map((k) => maxNumberDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`)));
  }
  assert.equal(a, b, path);
  return 0;
}

function qaOutputs(model: NystromformerForQuestionAnswering, ids: Int32Array, mask: Int32Array, B: number, n: number): Float32Array[] {
  return noGrad(() => tidy(() => {
    const o = model.forward({ inputIds: Tensor.from(ids, [B, n], 'int32'), attentionMask: Tensor.from(mask, [B, n], 'int32') });
    return [o.startLogits.toArray() as Float32Array, o.endLogits.toArray() as Float32Array];
  }));
}

test("setRuntime 'onnx' = engine on a head model, padded batch, both attention modes; 'engine' restores", async () => {
  const model = await NystromformerForQuestionAnswering.fromPretrained(join(fixtures, 'qa'));
  try {
    const B = 2;
    const n = 20;
    const ids = Int32Array.from({ length: B * n }, (_, i) => (i * 11 + 5) % model.config.vocab_size);
    const mask = Int32Array.from({ length: B * n }, (_, i) => (i >= B * n - 6 ? 0 : 1));
    const errors: Record<string, number> = {};
    for (const attention of ['hf', 'nystrom'] as const) {
      model.setAttention({ attention, numLandmarks: 4 });
      setRuntime(model, 'engine');
      const want = qaOutputs(model, ids, mask, B, n);
      setRuntime(model, 'onnx');
      assert.equal(runtimeOf(model), 'onnx');
      const got = qaOutputs(model, ids, mask, B, n);
      errors[attention] = maxNumberDiff(Array.from(got[0]).concat(Array.from(got[1])), Array.from(want[0]).concat(Array.from(want[1])));
    }
    console.log(JSON.stringify({ case: 'qa setRuntime onnx', max_abs_err: errors }));
    for (const [mode, err] of Object.entries(errors)) assert.ok(err <= TOLERANCE, `${mode}: max abs error ${err}`);
    assert.throws(() => model.forward({ inputIds: Tensor.from(ids, [B, n], 'int32') }, { outputHiddenStates: true }), /runtime 'onnx': the exported graph has no hidden states/);
    setRuntime(model, 'engine');
    assert.equal(runtimeOf(model), 'engine');
    model.forward({ inputIds: Tensor.from(ids, [B, n], 'int32') }, { outputHiddenStates: true });
  } finally {
    setRuntime(model, 'engine');
    model.dispose();
  }
});

test('setRuntime names a bad runtime', async () => {
  const model = await loadModel(join(fixtures, 'base-dense'));
  try {
    assert.throws(() => setRuntime(model, 'gpu' as 'onnx'), /runtime must be 'engine' or 'onnx', got 'gpu'/);
  } finally {
    model.dispose();
  }
});

test("fromPretrained and loadModel with runtime 'onnx': the engine's outputs; dispose releases the session", async () => {
  const dir = join(fixtures, 'qa');
  const engine = await NystromformerForQuestionAnswering.fromPretrained(dir);
  const onnx = await NystromformerForQuestionAnswering.fromPretrained(dir, { runtime: 'onnx' });
  const auto = await loadModel(dir, { runtime: 'onnx' });
  try {
    assert.equal(runtimeOf(engine), 'engine');
    assert.equal(runtimeOf(onnx), 'onnx');
    assert.equal(runtimeOf(auto), 'onnx');
    const [B, n] = [2, 13];
    const ids = Int32Array.from({ length: B * n }, (_, i) => (i * 7 + 3) % engine.config.vocab_size);
    const mask = Int32Array.from({ length: B * n }, (_, i) => (i >= B * n - 4 ? 0 : 1));
    const want = qaOutputs(engine, ids, mask, B, n).flatMap((a) => Array.from(a));
    const errors = [onnx, auto as NystromformerForQuestionAnswering].map((m) => maxNumberDiff(qaOutputs(m, ids, mask, B, n).flatMap((a) => Array.from(a)), want));
    console.log(JSON.stringify({ case: "qa fromPretrained / loadModel runtime 'onnx'", max_abs_err: errors }));
    for (const err of errors) assert.ok(err <= TOLERANCE, `max abs error ${err}`);
  } finally {
    engine.dispose();
    onnx.dispose();
    auto.dispose();
  }
  assert.equal(runtimeOf(onnx), 'engine', 'dispose() closes the onnxruntime session');
  await assert.rejects(NystromformerModel.fromPretrained(dir, { runtime: 'gpu' as 'onnx' }), /runtime must be 'engine' or 'onnx', got 'gpu'/);
});

test("runtime 'onnx' without the runtime layer loaded (the browser entry) is a clear error", () => {
  // The models alone, as nystromformer/web has them: nothing has provided 'onnx'.
  const script = `const { NystromformerModel } = await import(${JSON.stringify(join(repo, 'dist/src/models/index.js'))});
    await NystromformerModel.fromPretrained(${JSON.stringify(join(fixtures, 'base-dense'))}, { runtime: 'onnx' });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /runtime 'onnx' is not loaded: import the library from 'nystromformer' \(Node, with onnxruntime-node\), not 'nystromformer\/web'/);
});

test('execution providers: a missing CUDA provider and an unknown one are clear errors, from setRuntime and NYSTROMFORMER_ONNX_PROVIDERS', async (t) => {
  const bin = join(repo, 'node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch);
  if (existsSync(join(bin, 'libonnxruntime_providers_cuda.so'))) return t.skip('onnxruntime-node has its CUDA files here');
  const model = await NystromformerModel.fromPretrained(join(fixtures, 'base-dense'));
  try {
    setRuntime(model, 'onnx', { executionProviders: ['cuda'] });
    assert.throws(() => model.forward({ inputIds: Tensor.from(Int32Array.of(5, 6, 7), [1, 3], 'int32') }),
      /onnxruntime: .*Cuda.*The CUDA provider needs CUDA 12 and onnxruntime-node's CUDA files: npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12/s);
  } finally {
    model.dispose();
  }
  const r = spawnSync(process.execPath, [cli, 'embed', '--model', join(fixtures, 'mlm-dense-tied'), '--runtime', 'onnx', 'a text'],
    { encoding: 'utf8', env: { ...process.env, NYSTROMFORMER_ONNX_PROVIDERS: 'bogus' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /nystromformer: onnxruntime: .*\[bogus\] backend not found/);
});

test('verify-model --runtime onnx: the exported graphs match the PyTorch fixtures', () => {
  for (const folder of ['base-dense', 'mlm-nystrom-branch', 'token-cls']) {
    const r = spawnSync(process.execPath, [cli, 'verify-model', join(fixtures, folder), '--json', '--runtime', 'onnx', '--weights', 'safetensors'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout);
    console.log(JSON.stringify({ case: `verify-model ${folder} --runtime onnx`, max_abs_err: result.max_abs_err }));
    assert.equal(result.runtime, 'onnx');
    assert.equal(result.ok, true);
  }
  const bad = spawnSync(process.execPath, [cli, 'verify-model', join(fixtures, 'qa'), '--runtime', 'gpu'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /argument 'gpu' is invalid\. Allowed choices are engine, onnx/);
});

const COMMANDS: Array<[string, string, string[]]> = [
  ['fill-mask', 'mlm-dense-tied', ['hello [MASK] world, this is [MASK] test.']],
  ['classify', 'seqcls-single', ['hello world', 'a second, somewhat longer text to classify']],
  ['embed', 'mlm-dense-tied', ['hello world', 'a second text to embed']],
  ['embed', 'seqcls-single', ['--attention', 'nystrom', '--landmarks', '2', 'nystrom attention on the onnx runtime as well']],
];

for (const [command, folder, args] of COMMANDS) {
  test(`${command} --runtime onnx = --runtime engine (${folder} ${args.filter((a) => a.startsWith('--')).join(' ')})`, () => {
    const run = (runtime: string) => execFileSync(process.execPath, [cli, command, '--model', join(fixtures, folder), '--json', '--runtime', runtime, ...args], { encoding: 'utf8' })
      .trim().split('\n').map((line) => JSON.parse(line));
    const err = maxNumberDiff(run('onnx'), run('engine'));
    console.log(JSON.stringify({ case: `${command} ${folder} --runtime onnx vs engine`, max_abs_err: err }));
    assert.ok(err <= TOLERANCE, `max abs difference ${err}`);
  });
}
