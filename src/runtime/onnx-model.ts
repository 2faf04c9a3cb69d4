/**
 * runtime 'onnx': a model's encoder (its base NystromformerModel, where nearly all the time goes)
 * runs as an exported graph on onnxruntime-node; the small task heads stay on the engine. The base
 * model holds it as its EncoderRuntime strategy, so pipelines and heads, which call the base model's
 * forward, reach it unchanged.
 */
import { Tensor } from '../engine/index.js';
import type { EncoderRuntime, NystromformerInputs, NystromformerModel, NystromformerPreTrainedModel, OutputOptions, Runtime } from '../models/index.js';
import { checkRuntime, provideRuntime } from '../models/nystromformer/pretrained.js';
import { baseModelOf } from '../models/pipelines/encode.js';
import { exportOnnx } from './export-model.js';
import type { OnnxSessionOptions } from './session-protocol.js';
import { SyncOnnxSession } from './sync-session.js';

/**
 * Where `model` computes its encoder from now on. 'onnx' exports it (its weights now; after
 * further training call setRuntime(model, 'onnx') again) and re-exports when the attention
 * settings change. 'engine' releases the session, and so does `model.dispose()`. The session's
 * options default to NYSTROMFORMER_ONNX_PROVIDERS (e.g. `cuda,cpu`) for its execution providers.
 */
export function setRuntime(model: NystromformerPreTrainedModel, runtime: Runtime, options: OnnxSessionOptions = defaultSessionOptions()): void {
  checkRuntime(runtime);
  const base = baseModelOf(model);
  base.useRuntime(runtime === 'engine' ? null : new OnnxEncoder(base, options));
}

/** Lets fromPretrained({ runtime: 'onnx' }) and loadModel reach setRuntime; the Node entry calls it. */
export function provideOnnxRuntime(): void {
  provideRuntime('onnx', (model) => setRuntime(model, 'onnx'));
}

function defaultSessionOptions(): OnnxSessionOptions {
  const providers = process.env.NYSTROMFORMER_ONNX_PROVIDERS?.split(',').map((p) => p.trim()).filter((p) => p);
  return providers?.length ? { executionProviders: providers } : {};
}

export function runtimeOf(model: NystromformerPreTrainedModel): Runtime {
  return baseModelOf(model).runtime.name;
}

class OnnxEncoder implements EncoderRuntime {
  readonly name = 'onnx';
  #session: SyncOnnxSession | null = null;
  /** The attention settings the session was exported with. */
  #exportedFor = '';

  constructor(readonly base: NystromformerModel, readonly options: OnnxSessionOptions) {}

  forward(inputs: NystromformerInputs, options: OutputOptions = {}): { lastHiddenState: Tensor } {
    if (options.outputHiddenStates || options.outputAttentions) {
      throw new Error("runtime 'onnx': the exported graph has no hidden states or attention outputs (use runtime 'engine')");
    }
    const { inputIds, attentionMask, tokenTypeIds } = inputs;
    if (inputIds.rank !== 2) throw new Error(`runtime 'onnx': input_ids must be (batch, length), got [${inputIds.shape.join(', ')}]`);
    const dims = [...inputIds.shape];
    const int64 = (t: Tensor | undefined, fill: number) => (t
      ? BigInt64Array.from(t.toArray(), (v) => BigInt(Math.round(v)))
      : new BigInt64Array(inputIds.size).fill(BigInt(fill)));
    const out = this.#sessionNow().run({
      input_ids: { data: int64(inputIds, 0), dims },
      attention_mask: { data: int64(attentionMask, 1), dims },
      token_type_ids: { data: int64(tokenTypeIds, 0), dims },
    }).last_hidden_state;
    return { lastHiddenState: Tensor.from(out.data, out.dims) };
  }

  dispose(): void {
    this.#session?.close();
    this.#session = null;
  }

  #sessionNow(): SyncOnnxSession {
    const key = JSON.stringify(this.base.attentionSettings);
    if (!this.#session || key !== this.#exportedFor) {
      this.dispose();
      this.#session = SyncOnnxSession.create(exportOnnx(this.base), this.options);
      this.#exportedFor = key;
    }
    return this.#session;
  }
}
