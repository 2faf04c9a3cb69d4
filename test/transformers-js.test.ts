/**
 * The exported folder in transformers.js (installed from the npm registry): `feature-extraction`
 * on a folder written by exportFolder gives the engine's last hidden state, and its mean pooling
 * the engine's embed(), within 1e-4. transformers.js has no 'nystromformer' model type; it loads
 * unknown encoder-only types as a plain PreTrainedModel on onnx/model.onnx, feeding input_ids,
 * attention_mask and token_type_ids by the graph's input names, so no patching is needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { env, LogLevel, ModelRegistry, pipeline } from '@huggingface/transformers';
import { noGrad, Tensor, tidy } from '../src/engine/index.js';
import { Tokenizer } from '../src/io/tokenizer.js';
import { embed, NystromformerModel } from '../src/models/index.js';
import { exportFolder } from '../src/runtime/index.js';
import { maxAbsError } from './helpers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
/** A masked-LM fixture with a tokenizer whose vocabulary is the model's (300 tokens). */
const source = join(repo, 'test/fixtures/models/mlm-dense-tied');
const TOLERANCE = 1e-4;
const TEXTS = ['hello world, this is a test.', 'a longer sentence, so that the batch has padding in it.'];

env.allowRemoteModels = false;
// transformers.js warns that it does not know the model type, as expected here
env.logLevel = LogLevel.ERROR;


/**
 * The base model, whose output transformers.js reads as last_hidden_state; and the masked-LM export
 * (no --architecture), whose graph also outputs last_hidden_state, which transformers.js reads before
 * the logits, with its external data announced in config.json rather than passed when loading.
 */
const CASES = [
  { architecture: 'NystromformerModel', externalData: false, passExternalData: true },
  { architecture: 'NystromformerModel', externalData: true, passExternalData: true },
  { architecture: undefined, externalData: true, passExternalData: false },
];

for (const [i, { architecture, externalData, passExternalData }] of CASES.entries()) {
  const what = `${architecture ? 'the base model' : 'a masked-LM export'}, weights ${externalData ? 'as external data' : 'inline'}`;
  test(`transformers.js feature-extraction on an exported folder = the engine (${what})`, async () => {
    // a name of its own: transformers.js keeps a model's config.json by name
    const out = join(mkdtempSync(join(tmpdir(), 'nystromformer-tjs-')), `model-${i}`);
    const report = await exportFolder(source, out, { architecture, externalData, onWarning: () => {} });
    assert.equal(report.outputs.at(-1), 'last_hidden_state');
    env.localModelPath = dirname(out);
    // in browsers transformers.js defaults to q8 (onnx/model_quantized.onnx) unless config.json names the dtype
    const files = ['config.json', 'onnx/model.onnx', ...(externalData ? ['onnx/model.onnx_data'] : [])];
    for (const device of ['wasm', 'webgpu'] as const) assert.deepEqual(await ModelRegistry.get_model_files(basename(out), { device }), files, device);
    const extractor = await pipeline('feature-extraction', basename(out), {
      local_files_only: true, ...(passExternalData && { use_external_data_format: externalData }),
    });
    const model = await NystromformerModel.fromPretrained(source, { onWarning: () => {} });
    const tokenizer = await Tokenizer.fromDir(source);
    try {
      const errors: Record<string, number> = {};
      for (const text of TEXTS) {
        const e = tokenizer.encode({ text });
        const n = e.inputIds.length;
        const want = noGrad(() => tidy(() => model.forward({
          inputIds: Tensor.from(Int32Array.from(e.inputIds), [1, n], 'int32'),
          tokenTypeIds: Tensor.from(Int32Array.from(e.tokenTypeIds), [1, n], 'int32'),
        }).lastHiddenState.toArray() as Float32Array));
        const got = await extractor(text);
        assert.deepEqual(got.dims, [1, n, model.config.hidden_size], 'transformers.js tokenized the text as the engine does');
        errors[`last_hidden_state n=${n}`] = maxAbsError(got.data as Float32Array, want);
      }
      // mean-pooled and normalised, against embed()
      for (const [i, text] of TEXTS.entries()) {
        const pooled = await extractor(text, { pooling: 'mean', normalize: true });
        errors[`mean pooling, text ${i}`] = maxAbsError(pooled.data as Float32Array, (await embed(model, tokenizer, [text], { pooling: 'mean' }))[0]);
      }
      // a padded batch as transformers.js pads it (Hugging Face's conv on V sees the padding, so the
      // engine runs on the same padded batch)
      const batch = await extractor.tokenizer(TEXTS, { padding: true });
      const [B, n] = batch.input_ids.dims as number[];
      const ints = (t: { data: ArrayLike<bigint> }) => Tensor.from(Int32Array.from(t.data, Number), [B, n], 'int32');
      const padded = noGrad(() => tidy(() => model.forward({
        inputIds: ints(batch.input_ids), attentionMask: ints(batch.attention_mask), tokenTypeIds: ints(batch.token_type_ids!),
      }).lastHiddenState.toArray() as Float32Array));
      errors[`last_hidden_state, padded batch ${B}×${n}`] = maxAbsError((await extractor(TEXTS)).data as Float32Array, padded);
      console.log(JSON.stringify({ case: `transformers.js feature-extraction, ${what}`, max_abs_err: errors }));
      for (const [name, err] of Object.entries(errors)) assert.ok(err <= TOLERANCE, `${name}: max abs error ${err}`);
    } finally {
      await extractor.dispose();
      model.dispose();
      rmSync(dirname(out), { recursive: true });
    }
  });
}
