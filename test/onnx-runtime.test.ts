/**
 * runtime 'onnx' (setRuntime, --runtime): the same results as the engine within 1e-4, from the
 * API (heads, padded batches, attention changes) and from the fill-mask, classify and embed commands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noGrad, Tensor, tidy } from '../src/engine/index.js';
import { loadModel, NystromformerForQuestionAnswering } from '../src/models/index.js';
import { runtimeOf, setRuntime } from '../src/runtime/index.js';

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
