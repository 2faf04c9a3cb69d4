/** NystromformerModel: embeddings and the encoder stack (Hugging Face's base model). */
import { cast, checkedBoundary, fmt, Tensor } from '../../engine/index.js';
import { assertFinite, canCheckValues } from '../../attention/index.js';
import { Module, ModuleList, release, stage } from '../../nn/index.js';
import { NystromformerConfig } from './config.js';
import { NystromformerEmbeddings } from './embeddings.js';
import { NystromformerLayer } from './layer.js';
import { AttentionOptions, NystromformerPreTrainedModel, type Runtime } from './pretrained.js';
import { AttentionSettings, checkSameShape } from './self-attention.js';

export interface NystromformerInputs {
  /** (B, n) int32 token ids. */
  inputIds: Tensor;
  /** (B, n) 1 for tokens, 0 for padding (float32 or int32); none means no padding. */
  attentionMask?: Tensor;
  /** (B, n) int32 segment ids; none means 0 everywhere. */
  tokenTypeIds?: Tensor;
}

export interface OutputOptions {
  /** Also return the embeddings' output and every layer's output. */
  outputHiddenStates?: boolean;
  /** Also return every layer's attention matrix (see SelfAttentionOutput). */
  outputAttentions?: boolean;
}

export interface BaseModelOutput {
  /** (B, n, hidden) */
  lastHiddenState: Tensor;
  hiddenStates?: Tensor[];
  attentions?: Tensor[];
}

/**
 * Where the encoder computes: a strategy the base model holds. The engine's is the default;
 * runtime/onnx-model.ts's setRuntime gives a model the 'onnx' one (an exported graph on onnxruntime).
 */
export interface EncoderRuntime {
  readonly name: Runtime;
  forward(inputs: NystromformerInputs, options: OutputOptions): BaseModelOutput;
  /** Releases what the strategy holds (a session); the model is left as it was. */
  dispose(): void;
}

class NystromformerEncoder extends Module {
  readonly layer: ModuleList<NystromformerLayer>;

  constructor(config: NystromformerConfig, settings: AttentionSettings) {
    super();
    const layers = Array.from({ length: config.num_hidden_layers }, () => new NystromformerLayer(config, settings));
    this.layer = this.addModule('layer', new ModuleList(layers));
  }
}

/** The bare model, whose state-dict keys have no prefix ('embeddings.…', 'encoder.layer.0.…'). */
export class NystromformerModel extends NystromformerPreTrainedModel {
  readonly architecture: string = 'NystromformerModel';
  readonly embeddings: NystromformerEmbeddings;
  readonly encoder: NystromformerEncoder;

  constructor(config: Partial<NystromformerConfig> = {}, attention: AttentionOptions = {}, shared?: AttentionSettings) {
    super(config, attention, shared);
    this.embeddings = this.addModule('embeddings', new NystromformerEmbeddings(this.config));
    this.encoder = this.addModule('encoder', new NystromformerEncoder(this.config, this.attentionSettings));
  }

  protected get hasBasePrefix(): boolean {
    return false;
  }

  readonly #engine: EncoderRuntime = { name: 'engine', forward: (inputs, options) => this.#encode(inputs, options), dispose: () => {} };
  #runtime = this.#engine;

  /** Where forward computes (see EncoderRuntime). */
  get runtime(): EncoderRuntime {
    return this.#runtime;
  }

  /** Computes on `runtime` from now on (null: the engine), disposing the strategy it replaces. */
  useRuntime(runtime: EncoderRuntime | null): void {
    if (this.#runtime !== runtime) this.#runtime.dispose();
    this.#runtime = runtime ?? this.#engine;
  }

  forward(inputs: NystromformerInputs, options: OutputOptions = {}): BaseModelOutput {
    return this.#runtime.forward(inputs, options);
  }

  /** Releases the runtime's resources with the weights. */
  override dispose(): void {
    this.useRuntime(null);
    super.dispose();
  }

  #encode(inputs: NystromformerInputs, options: OutputOptions): BaseModelOutput {
    const { inputIds, tokenTypeIds } = inputs;
    if (inputIds.rank !== 2 || inputIds.dtype !== 'int32') {
      throw new Error(`NystromformerModel: input_ids must be int32 (batch, length), got ${inputIds.dtype} ${fmt(inputIds.shape)}`);
    }
    checkSameShape('attention_mask', inputs.attentionMask, inputIds);
    checkSameShape('token_type_ids', tokenTypeIds, inputIds);
    if (tokenTypeIds && tokenTypeIds.dtype !== 'int32') throw new Error(`NystromformerModel: token_type_ids must be int32, got ${tokenTypeIds.dtype}`);
    const mask = inputs.attentionMask && floatMask(inputs.attentionMask);
    let hidden = stage(() => this.embeddings.forward(inputIds, tokenTypeIds));
    const hiddenStates = options.outputHiddenStates ? [hidden] : undefined;
    const attentions: Tensor[] | undefined = options.outputAttentions ? [] : undefined;
    // The mask was checked above and the output is checked once below: the layers' ops skip their own reads.
    checkedBoundary(() => {
      for (const layer of this.encoder.layer.items) {
        const out = stage(() => layer.forward(hidden, mask, attentions !== undefined));
        if (!hiddenStates) release(hidden);
        hidden = out.hidden;
        hiddenStates?.push(hidden);
        if (out.attention) attentions?.push(out.attention);
      }
    });
    if (mask && mask !== inputs.attentionMask) release(mask);
    assertFinite('NystromformerModel', 'last_hidden_state', hidden);
    return { lastHiddenState: hidden, ...(hiddenStates && { hiddenStates }), ...(attentions && { attentions }) };
  }
}

/** A 0/1 mask as float32, checked. */
function floatMask(mask: Tensor): Tensor {
  if (canCheckValues() && mask.toArray().some((v) => v !== 0 && v !== 1)) throw new Error(`NystromformerModel: attention_mask must hold only 0 and 1`);
  return mask.dtype === 'float32' ? mask : cast(mask, 'float32');
}
