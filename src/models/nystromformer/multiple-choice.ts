/** NystromformerForMultipleChoice: (B, C, n) inputs, token 0 → pre_classifier → ReLU → classifier → (B, C). */
import { crossEntropy, fmt, reshape, relu, Tensor } from '../../engine/index.js';
import { Linear } from '../../nn/index.js';
import { NystromformerConfig } from './config.js';
import { extras, firstToken, HeadOutput, NystromformerHeadModel } from './head-base.js';
import { NystromformerInputs, OutputOptions } from './model.js';
import { AttentionOptions } from './pretrained.js';

export class NystromformerForMultipleChoice extends NystromformerHeadModel {
  readonly architecture: string = 'NystromformerForMultipleChoice';
  readonly preClassifier: Linear;
  readonly classifier: Linear;

  constructor(config: Partial<NystromformerConfig> = {}, attention: AttentionOptions = {}) {
    super(config, attention);
    const { hidden_size: h, initializer_range: std } = this.config;
    this.preClassifier = this.addModule('pre_classifier', new Linear(h, h, { std }));
    this.classifier = this.addModule('classifier', new Linear(h, 1, { std }));
  }

  /** inputs (B, C, n) each; logits (B, C); labels int32 (B): the right choice. */
  forward(inputs: NystromformerInputs & { labels?: Tensor }, options: OutputOptions = {}): HeadOutput {
    const { inputIds } = inputs;
    if (inputIds.rank !== 3) throw new Error(`${this.architecture}: input_ids must be (batch, choices, length), got ${fmt(inputIds.shape)}`);
    const [B, C, n] = inputIds.shape;
    const flat = (t?: Tensor) => t && reshape(t, [B * C, n]);
    const out = this.encode({ inputIds: flat(inputIds)!, attentionMask: flat(inputs.attentionMask), tokenTypeIds: flat(inputs.tokenTypeIds) }, options);
    const scores = this.classifier.forward(relu(this.preClassifier.forward(firstToken(out.lastHiddenState))));
    const logits = reshape(scores, [B, C]);
    const loss = inputs.labels && crossEntropy(logits, reshape(inputs.labels, [B]));
    return { logits, ...(loss && { loss }), ...extras(out) };
  }
}
