/** NystromformerForQuestionAnswering: qa_outputs (h → 2) gives start and end logits per token. */
import { add, crossEntropy, mulScalar, reshape, slice, Tensor } from '../../engine/index.js';
import { Linear } from '../../nn/index.js';
import { NystromformerConfig } from './config.js';
import { extras, HeadOutput, NystromformerHeadModel } from './head-base.js';
import { NystromformerInputs, OutputOptions } from './model.js';
import { AttentionOptions } from './pretrained.js';

export interface QuestionAnsweringOutput extends Omit<HeadOutput, 'logits'> {
  /** (B, n) */
  startLogits: Tensor;
  /** (B, n) */
  endLogits: Tensor;
}

export class NystromformerForQuestionAnswering extends NystromformerHeadModel {
  readonly architecture: string = 'NystromformerForQuestionAnswering';
  readonly qaOutputs: Linear;

  constructor(config: Partial<NystromformerConfig> = {}, attention: AttentionOptions = {}) {
    super(config, attention);
    this.qaOutputs = this.addModule('qa_outputs', new Linear(this.config.hidden_size, 2, { std: this.config.initializer_range }));
  }

  /**
   * startPositions / endPositions: int32 (B). As in Hugging Face, positions outside the sequence
   * are clamped to n and ignored; the loss is the mean of the start and end cross-entropies.
   */
  forward(inputs: NystromformerInputs & { startPositions?: Tensor; endPositions?: Tensor }, options: OutputOptions = {}): QuestionAnsweringOutput {
    const out = this.encode(inputs, options);
    const logits = this.qaOutputs.forward(out.lastHiddenState);
    const [B, n] = logits.shape;
    const startLogits = reshape(slice(logits, 2, 0, 1), [B, n]);
    const endLogits = reshape(slice(logits, 2, 1, 2), [B, n]);
    const { startPositions: s, endPositions: e } = inputs;
    const loss = s && e && mulScalar(add(
      crossEntropy(startLogits, clamped(s, n), { ignoreIndex: n }),
      crossEntropy(endLogits, clamped(e, n), { ignoreIndex: n }),
    ), 0.5);
    return { startLogits, endLogits, ...(loss && { loss }), ...extras(out) };
  }
}

/** Positions as a flat int32 tensor, clamped to [0, n] (n is then ignored). */
function clamped(positions: Tensor, n: number): Tensor {
  const values = Int32Array.from(positions.toArray(), (p) => Math.min(Math.max(p, 0), n));
  return Tensor.from(values, [values.length], 'int32');
}
