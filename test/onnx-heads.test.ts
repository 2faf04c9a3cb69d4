/**
 * ONNX export of the task heads: every fixture exported as its architecture (config.json's
 * `architectures`), run on onnxruntime-node, against the engine's outputs (max abs error ≤ 1e-4)
 * and, where the fixture has them, PyTorch's logits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noGrad, Tensor, tidy } from '../src/engine/index.js';
import { readSafetensorsSync, toFloat32, toInt32 } from '../src/io/safetensors.js';
import { loadModel, type NystromformerPreTrainedModel } from '../src/models/index.js';
import { exportOnnx } from '../src/runtime/index.js';
import { maxAbsError } from './helpers.js';

const ort = (await import('onnxruntime-node')).default;

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dir = join(repo, 'test/fixtures/models');
const TOLERANCE = 1e-4;

/** Engine output names (camelCase) → graph output names. */
const OUTPUT_NAMES: Record<string, string> = {
  lastHiddenState: 'last_hidden_state', logits: 'logits', startLogits: 'start_logits', endLogits: 'end_logits',
};

interface Fixture { ids: Int32Array; mask?: Int32Array; types?: Int32Array; shape: number[]; expectedLogits?: Float32Array; tolerance: number }

function fixture(folder: string): Fixture {
  const file = readSafetensorsSync(join(dir, folder, 'expected.safetensors'));
  const ints = (name: string) => {
    const t = file.tensors.get(name);
    return t && toInt32(t, name);
  };
  const logits = file.tensors.get('logits');
  return {
    ids: ints('input_ids')!, mask: ints('attention_mask'), types: ints('token_type_ids'),
    shape: [...file.tensors.get('input_ids')!.shape],
    expectedLogits: logits && toFloat32(logits, 'logits'),
    tolerance: Number(file.metadata.tolerance ?? TOLERANCE),
  };
}

/** The engine's outputs as flat arrays, by graph output name. */
function engineOutputs(model: NystromformerPreTrainedModel, f: Fixture): Record<string, Float32Array> {
  const t = (data: Int32Array | undefined) => data && Tensor.from(data, f.shape, 'int32');
  return noGrad(() => tidy(() => {
    const forward = (model as unknown as { forward(i: object): Record<string, unknown> }).forward.bind(model);
    const out = forward({ inputIds: t(f.ids), attentionMask: t(f.mask), tokenTypeIds: t(f.types) });
    const arrays: Record<string, Float32Array> = {};
    for (const [key, name] of Object.entries(OUTPUT_NAMES)) if (out[key] instanceof Tensor) arrays[name] = (out[key] as Tensor).toArray() as Float32Array;
    return arrays;
  }));
}

async function onnxOutputs(bytes: Uint8Array, f: Fixture): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const t = (data: Int32Array) => new ort.Tensor('int64', BigInt64Array.from(data, (v) => BigInt(v)), f.shape);
    const out = await session.run({
      input_ids: t(f.ids),
      attention_mask: t(f.mask ?? new Int32Array(f.ids.length).fill(1)),
      token_type_ids: t(f.types ?? new Int32Array(f.ids.length)),
    });
    return Object.fromEntries(session.outputNames.map((name) => [name, out[name].data as Float32Array]));
  } finally {
    await session.release();
  }
}


for (const folder of readdirSync(dir).sort()) {
  test(`ONNX head = engine: ${folder}`, async () => {
    const model = await loadModel(join(dir, folder), { onWarning: () => {} });
    try {
      const f = fixture(folder);
      const c = model.config;
      const n = f.shape[f.shape.length - 1];
      const modes = c.num_landmarks === c.segment_means_seq_len || n === c.segment_means_seq_len ? ['hf', 'nystrom'] as const : ['nystrom'] as const;
      for (const mode of modes) {
        model.setAttention({ attention: mode });
        const want = engineOutputs(model, f);
        const got = await onnxOutputs(exportOnnx(model), f);
        assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${folder}: output names`);
        const errors = Object.fromEntries(Object.keys(want).map((name) => [name, maxAbsError(got[name], want[name])]));
        if (mode === 'hf' && f.expectedLogits && got.logits) errors['logits vs PyTorch'] = maxAbsError(got.logits, f.expectedLogits);
        console.log(JSON.stringify({ case: `${model.architecture} ${folder} ${mode}`, max_abs_err: errors }));
        for (const [name, err] of Object.entries(errors)) {
          const limit = name.includes('PyTorch') ? f.tolerance : TOLERANCE;
          assert.ok(err <= limit, `${folder} ${mode} ${name}: max abs error ${err} > ${limit}`);
        }
      }
    } finally {
      model.dispose();
    }
  });
}
