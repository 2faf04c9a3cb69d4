/**
 * The 8-bit ONNX export (export --dtype q8): onnx/model_quantized.onnx in onnxruntime's dynamic
 * quantization form, run by onnxruntime-node, by transformers.js with its default dtype 'q8', and
 * behind runtime 'onnx' with dtype 'q8'; each against the float32 engine (8-bit error) and against
 * each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { env, LogLevel, ModelRegistry, pipeline } from '@huggingface/transformers';
import { noGrad, Tensor, tidy } from '../src/engine/index.js';
import { Tokenizer } from '../src/io/tokenizer.js';
import { manualSeed } from '../src/nn/index.js';
import { NystromformerModel } from '../src/models/index.js';
import { exportFolder, provideOnnxRuntime, SyncOnnxSession } from '../src/runtime/index.js';
import { maxAbsError, withTempDir } from './helpers.js';

provideOnnxRuntime();
env.allowRemoteModels = false;
env.logLevel = LogLevel.ERROR;

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/models/mlm-dense-tied', import.meta.url));
const CONFIG = {
  vocab_size: 300, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128,
  max_position_embeddings: 64, segment_means_seq_len: 64, num_landmarks: 64, conv_kernel_size: 3, pad_token_id: 1,
};
const TEXT = 'a longer sentence, so that the model has something to read.';

async function savedModel(dir: string): Promise<string> {
  manualSeed(11);
  const model = new NystromformerModel({ ...CONFIG, initializer_range: 0.05 });
  const folder = join(dir, 'fp32');
  await model.save(folder);
  model.dispose();
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) copyFileSync(join(FIXTURE, f), join(folder, f));
  return folder;
}

function hidden(model: NystromformerModel, ids: number[]): Float32Array {
  return noGrad(() => tidy(() => model.forward({ inputIds: Tensor.from(Int32Array.from(ids), [1, ids.length], 'int32') }).lastHiddenState.toArray() as Float32Array));
}

test('export --dtype q8: model_quantized.onnx beside model.onnx, 8-bit weights, run by onnxruntime-node, transformers.js and runtime onnx', withTempDir('onnx-q8', async (dir) => {
  const source = await savedModel(dir);
  const out = join(dir, 'exported', 'q8-model');
  const report = await exportFolder(source, out, { dtype: 'q8' });
  assert.deepEqual(report.files.filter((f) => f.startsWith('onnx/')), ['onnx/model.onnx', 'onnx/model_quantized.onnx']);
  // each Linear weight shrinks from 4 bytes to 1, and gains a float32 scale per output channel
  const { hidden_size: h, intermediate_size: i, num_hidden_layers: layers } = CONFIG;
  const linearWeights = layers * (4 * h * h + 2 * h * i);
  const outputChannels = layers * (5 * h + i);
  assert.equal(report.weightBytes - report.quantizedWeightBytes!, 3 * linearWeights - 4 * outputChannels);
  const bytes = readFileSync(join(out, 'onnx/model_quantized.onnx'));
  for (const op of ['DynamicQuantizeLinear', 'MatMulInteger']) assert.ok(bytes.includes(op), `the graph has ${op}`);
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config'].dtype, 'q8');

  const tokenizer = await Tokenizer.fromDir(source);
  const ids = tokenizer.encode({ text: TEXT }).inputIds;
  const n = ids.length;
  const fp32 = await NystromformerModel.fromPretrained(source);
  const q8 = await NystromformerModel.fromPretrained(source, { dtype: 'q8' });
  const onnxQ8 = await NystromformerModel.fromPretrained(source, { dtype: 'q8', runtime: 'onnx' });
  const session = SyncOnnxSession.create(new Uint8Array(bytes));
  env.localModelPath = dirname(out);
  const extractor = await pipeline('feature-extraction', basename(out), { local_files_only: true });
  try {
    assert.deepEqual(await ModelRegistry.get_model_files(basename(out), { device: 'wasm' }), ['config.json', 'onnx/model_quantized.onnx'],
      "transformers.js's default picks the 8-bit graph");
    const want = hidden(fp32, ids);
    const range = Math.max(...want.map(Math.abs));
    const feeds = {
      input_ids: { data: BigInt64Array.from(ids, BigInt), dims: [1, n] },
      attention_mask: { data: new BigInt64Array(n).fill(1n), dims: [1, n] },
      token_type_ids: { data: new BigInt64Array(n), dims: [1, n] },
    };
    const ort = session.run(Object.fromEntries(Object.entries(feeds).filter(([k]) => session.inputNames.includes(k)))).last_hidden_state.data;
    const tjs = (await extractor(TEXT)).data as Float32Array;
    const errors = {
      engine_q8_vs_fp32: maxAbsError(hidden(q8, ids), want),
      onnxruntime_q8_vs_fp32: maxAbsError(ort, want),
      transformers_js_q8_vs_onnxruntime_q8: maxAbsError(tjs, ort),
      runtime_onnx_q8_vs_onnxruntime_q8: maxAbsError(hidden(onnxQ8, ids), ort),
    };
    console.log(JSON.stringify({ case: 'onnx q8', hidden_range: range, max_abs_err: errors }));
    // 8-bit against float32: a few per cent of the range; the same graph in two runners: float32 noise
    assert.ok(errors.engine_q8_vs_fp32 > 0 && errors.engine_q8_vs_fp32 < 0.05 * range);
    assert.ok(errors.onnxruntime_q8_vs_fp32 > 0 && errors.onnxruntime_q8_vs_fp32 < 0.05 * range);
    assert.ok(errors.transformers_js_q8_vs_onnxruntime_q8 < 1e-5);
    assert.ok(errors.runtime_onnx_q8_vs_onnxruntime_q8 < 1e-5);
  } finally {
    await extractor.dispose();
    session.close();
    for (const m of [fp32, q8, onnxQ8]) m.dispose();
  }
}));

test('a folder saved 8-bit exports model_quantized.onnx alone; --dtype fp32 on it is refused', withTempDir('onnx-q8-saved', async (dir) => {
  const source = await savedModel(dir);
  const q8 = await NystromformerModel.fromPretrained(source, { dtype: 'q8' });
  await q8.save(join(dir, 'q8'));
  q8.dispose();
  const report = await exportFolder(join(dir, 'q8'), join(dir, 'out'));
  assert.deepEqual(report.files, ['config.json', 'onnx/model_quantized.onnx']);
  await assert.rejects(exportFolder(join(dir, 'q8'), join(dir, 'out2'), { dtype: 'fp32' }), /holds 8-bit weights: it exports as onnx\/model_quantized\.onnx only/);
}));
