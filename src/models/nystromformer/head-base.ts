/** What the task heads share: a base model under 'nystromformer.', token-0 pooling, outputs. */
import { reshape, slice, Tensor } from '../../engine/index.js';
import { NystromformerConfig } from './config.js';
import { BaseModelOutput, NystromformerInputs, NystromformerModel, OutputOptions } from './model.js';
import { AttentionOptions, NystromformerPreTrainedModel } from './pretrained.js';

export interface HeadOutput {
  logits: Tensor;
  /** Present when labels were given. */
  loss?: Tensor;
  hiddenStates?: Tensor[];
  attentions?: Tensor[];
}

export abstract class NystromformerHeadModel extends NystromformerPreTrainedModel {
  readonly nystromformer: NystromformerModel;

  constructor(config: Partial<NystromformerConfig> = {}, attention: AttentionOptions = {}) {
    super(config, attention);
    this.nystromformer = this.addModule('nystromformer', new NystromformerModel(this.config, {}, this.attentionSettings));
  }

  protected get hasBasePrefix(): boolean {
    return true;
  }

  /** Releases the base model's runtime (an onnxruntime session) with the weights. */
  override dispose(): void {
    this.nystromformer.useRuntime(null);
    super.dispose();
  }

  /** Runs the base model; the extra outputs are passed through to the head's result. */
  protected encode(inputs: NystromformerInputs, options: OutputOptions): BaseModelOutput {
    return this.nystromformer.forward(inputs, options);
  }
}

/** The hidden state of token 0 ([CLS]) of each sequence: (B, n, h) → (B, h). */
export function firstToken(hidden: Tensor): Tensor {
  const [B, , h] = hidden.shape;
  return reshape(slice(hidden, 1, 0, 1), [B, h]);
}

/** The base model's optional outputs, for a head's result. */
export function extras(out: BaseModelOutput): Pick<HeadOutput, 'hiddenStates' | 'attentions'> {
  return { ...(out.hiddenStates && { hiddenStates: out.hiddenStates }), ...(out.attentions && { attentions: out.attentions }) };
}
