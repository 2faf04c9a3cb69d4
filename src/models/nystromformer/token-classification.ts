/** NystromformerForTokenClassification: dropout → classifier on every token. */
import { crossEntropy, reshape, Tensor } from '../../engine/index.js';
import { Dropout, Linear } from '../../nn/index.js';
import { NystromformerConfig, numLabels } from './config.js';
import { extras, HeadOutput, NystromformerHeadModel } from './head-base.js';
import { NystromformerInputs, OutputOptions } from './model.js';
import { AttentionOptions } from './pretrained.js';

export class NystromformerForTokenClassification extends NystromformerHeadModel {
  readonly architecture: string = 'NystromformerForTokenClassification';
  readonly dropout: Dropout;
  readonly classifier: Linear;

  constructor(config: Partial<NystromformerConfig> = {}, attention: AttentionOptions = {}) {
    super(config, attention);
    this.dropout = this.addModule('dropout', new Dropout(this.config.hidden_dropout_prob));
    this.classifier = this.addModule('classifier', new Linear(this.config.hidden_size, numLabels(this.config), { std: this.config.initializer_range }));
  }

  /** logits (B, n, num_labels); labels int32 (B, n), −100 where ignored. */
  forward(inputs: NystromformerInputs & { labels?: Tensor }, options: OutputOptions = {}): HeadOutput {
    const out = this.encode(inputs, options);
    const logits = this.classifier.forward(this.dropout.forward(out.lastHiddenState));
    const C = logits.shape[2];
    const loss = inputs.labels && crossEntropy(reshape(logits, [-1, C]), reshape(inputs.labels, [-1]));
    return { logits, ...(loss && { loss }), ...extras(out) };
  }
}
