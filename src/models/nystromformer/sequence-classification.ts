/**
 * NystromformerForSequenceClassification: token 0 → dropout → classifier.dense → activation →
 * dropout → classifier.out_proj. The loss follows problem_type (inferred as Hugging Face does).
 */
import { binaryCrossEntropyWithLogits, crossEntropy, fmt, mseLoss, reshape, Tensor } from '../../engine/index.js';
import { Dropout, Linear, Module } from '../../nn/index.js';
import { activation } from '../activations.js';
import { NystromformerConfig, numLabels } from './config.js';
import { extras, firstToken, HeadOutput, NystromformerHeadModel } from './head-base.js';
import { NystromformerInputs, OutputOptions } from './model.js';
import { AttentionOptions } from './pretrained.js';

class ClassificationHead extends Module {
  readonly dense: Linear;
  readonly outProj: Linear;
  readonly dropout: Dropout;
  readonly #act: (x: Tensor) => Tensor;

  constructor(config: NystromformerConfig) {
    super();
    const std = config.initializer_range;
    this.dense = this.addModule('dense', new Linear(config.hidden_size, config.hidden_size, { std }));
    this.outProj = this.addModule('out_proj', new Linear(config.hidden_size, numLabels(config), { std }));
    this.dropout = this.addModule('dropout', new Dropout(config.hidden_dropout_prob));
    this.#act = activation(config.hidden_act);
  }

  forward(hidden: Tensor): Tensor {
    const x = this.#act(this.dense.forward(this.dropout.forward(firstToken(hidden))));
    return this.outProj.forward(this.dropout.forward(x));
  }
}

export type ProblemType = 'regression' | 'single_label_classification' | 'multi_label_classification';

export class NystromformerForSequenceClassification extends NystromformerHeadModel {
  readonly architecture: string = 'NystromformerForSequenceClassification';
  readonly classifier: ClassificationHead;

  constructor(config: Partial<NystromformerConfig> = {}, attention: AttentionOptions = {}) {
    super(config, attention);
    this.classifier = this.addModule('classifier', new ClassificationHead(this.config));
  }

  /** The problem type from the config, else: one label → regression, int32 labels → single-label, float → multi-label. */
  problemType(labels?: Tensor): ProblemType {
    if (this.config.problem_type) return this.config.problem_type as ProblemType;
    if (numLabels(this.config) === 1) return 'regression';
    return labels?.dtype === 'float32' ? 'multi_label_classification' : 'single_label_classification';
  }

  /**
   * logits (B, num_labels). labels: float32 (B) or (B, 1) for regression, int32 (B) for
   * single-label, float32 0/1 (B, num_labels) for multi-label.
   */
  forward(inputs: NystromformerInputs & { labels?: Tensor }, options: OutputOptions = {}): HeadOutput {
    const out = this.encode(inputs, options);
    const logits = this.classifier.forward(out.lastHiddenState);
    const loss = inputs.labels && this.#loss(logits, inputs.labels);
    return { logits, ...(loss && { loss }), ...extras(out) };
  }

  #loss(logits: Tensor, labels: Tensor): Tensor {
    const type = this.problemType(labels);
    const [B, C] = logits.shape;
    if (type === 'single_label_classification') return crossEntropy(logits, reshape(labels, [-1]));
    if (labels.dtype !== 'float32') throw new Error(`${this.architecture}: ${type} needs float32 labels, got ${labels.dtype} ${fmt(labels.shape)}`);
    if (type === 'regression') return C === 1 ? mseLoss(reshape(logits, [B]), reshape(labels, [-1])) : mseLoss(logits, labels);
    return binaryCrossEntropyWithLogits(logits, labels);
  }
}
