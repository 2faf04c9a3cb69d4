/**
 * `nystromformer verify-model DIR`: loads a Hugging Face model folder that also holds
 * `expected.safetensors` (docs/formats.md, "Model fixtures"), runs the stored inputs through the
 * architecture it names, and compares the outputs — once per weight format the folder has.
 */
import { join } from 'node:path';
import { noGrad, Tensor, tidy } from '../engine/index.js';
import { readSafetensors, toFloat32, toInt32, type SafetensorsFile } from '../io/safetensors.js';
import { weightFormatsIn, type WeightsFormat } from '../io/weights.js';
import { loadModel, NystromformerPreTrainedModel, type Runtime } from '../models/index.js';

export interface VerifyModelResult {
  model: string;
  weights: string;
  runtime: Runtime;
  max_abs_err: Record<string, number>;
  ok: boolean;
}

const OUTPUTS = ['last_hidden_state', 'logits', 'start_logits', 'end_logits'];
const DEFAULT_TOLERANCE = 1e-4;

export async function verifyModel(dir: string, format: WeightsFormat, runtime: Runtime = 'engine'): Promise<VerifyModelResult> {
  const expectedPath = join(dir, 'expected.safetensors');
  const expected = await readSafetensors(expectedPath);
  const architecture = expected.metadata.architecture;
  if (!architecture) throw new Error(`${expectedPath}: metadata has no 'architecture'`);
  const tolerance = Number(expected.metadata.tolerance ?? DEFAULT_TOLERANCE);
  // the expected outputs are Hugging Face's, whatever attention config.json records (nystromformer_attention)
  const model = await loadModel(dir, { architecture, weights: format, strict: true, runtime, attention: 'hf' });
  try {
    const outputs = noGrad(() => tidy(() => run(model, expected, expectedPath)));
    const errors: Record<string, number> = {};
    for (const [name, got] of Object.entries(outputs)) {
      if (expected.tensors.has(name)) errors[name] = maxAbsError(got, toFloat32(expected.tensors.get(name)!, name), `${expectedPath}: ${name}`);
    }
    if (Object.keys(errors).length === 0) throw new Error(`${expectedPath}: holds none of the outputs ${architecture} gives (${Object.keys(outputs).join(', ')})`);
    return { model: dir, weights: format, runtime, max_abs_err: errors, ok: Object.values(errors).every((e) => e <= tolerance) };
  } finally {
    model.dispose();
  }
}

/** The model's outputs on the fixture's inputs, as Float32Arrays by Hugging Face's names. */
function run(model: NystromformerPreTrainedModel, file: SafetensorsFile, path: string): Record<string, Float32Array> {
  const ids = (name: string) => {
    const raw = file.tensors.get(name);
    return raw && Tensor.from(toInt32(raw, name), raw.shape, 'int32');
  };
  const inputIds = ids('input_ids');
  if (!inputIds) throw new Error(`${path}: no 'input_ids'`);
  const inputs = { inputIds, attentionMask: ids('attention_mask'), tokenTypeIds: ids('token_type_ids') };
  const out = (model as unknown as { forward(i: typeof inputs): Record<string, Tensor | undefined> }).forward(inputs);
  const named: Record<string, Tensor | undefined> = {
    last_hidden_state: out.lastHiddenState, logits: out.logits, start_logits: out.startLogits, end_logits: out.endLogits,
  };
  return Object.fromEntries(OUTPUTS.filter((k) => named[k]).map((k) => [k, named[k]!.toArray() as Float32Array]));
}

function maxAbsError(got: Float32Array, want: Float32Array, what: string): number {
  if (got.length !== want.length) throw new Error(`${what}: the model gives ${got.length} values, the fixture ${want.length}`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst;
}

/** Every weight format in DIR; one line each (JSON with --json); exit code 1 if any fails. */
export async function verifyModelCommand(dir: string, options: { json?: boolean; weights?: WeightsFormat; runtime?: Runtime }): Promise<void> {
  const formats = options.weights ? [options.weights] : weightFormatsIn(dir);
  if (formats.length === 0) throw new Error(`verify-model: ${dir} has no model.safetensors or pytorch_model.bin`);
  for (const format of formats) {
    const r = await verifyModel(dir, format, options.runtime);
    if (!r.ok) process.exitCode = 1;
    if (options.json) console.log(JSON.stringify(r));
    else {
      const errs = Object.entries(r.max_abs_err).map(([k, e]) => `${k} ${e.toExponential(1)}`).join('  ');
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${dir} (${format}${r.runtime === 'onnx' ? ', onnx' : ''})  ${errs}`);
    }
  }
}
