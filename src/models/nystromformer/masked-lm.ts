/** NystromformerForMaskedLM: the base model and the MLM head, decoder tied to the word embeddings. */
import { add, crossEntropy, matmul, randn, reshape, Tensor, zeros } from '../../engine/index.js';
import { LayerNorm, Linear, Module, nextSeed } from '../../nn/index.js';
import { activation } from '../activations.js';
import { NystromformerConfig } from './config.js';
import { extras, HeadOutput, NystromformerHeadModel } from './head-base.js';
import { NystromformerInputs, OutputOptions } from './model.js';
import { AttentionOptions } from './pretrained.js';

class Transform extends Module {
  readonly dense: Linear;
  readonly norm: LayerNorm;

  constructor(config: NystromformerConfig) {
    super();
    this.dense = this.addModule('dense', new Linear(config.hidden_size, config.hidden_size, { std: config.initializer_range }));
    this.norm = this.addModule('LayerNorm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
  }
}

/** decoder.weight is the word-embedding table when tied; decoder.bias is predictions.bias. */
class Decoder extends Module {
  constructor(readonly weight: Tensor, readonly bias: Tensor) {
    super();
    this.addParameter('weight', weight);
    this.addParameter('bias', bias);
  }
}

class Predictions extends Module {
  readonly transform: Transform;
  readonly bias: Tensor;
  readonly decoder: Decoder;

  constructor(config: NystromformerConfig, wordEmbeddings: Tensor) {
    super();
    this.transform = this.addModule('transform', new Transform(config));
    this.bias = this.addParameter('bias', zeros([config.vocab_size]));
    const weight = config.tie_word_embeddings ? wordEmbeddings : randn([config.vocab_size, config.hidden_size], nextSeed(), 0, config.initializer_range);
    this.decoder = this.addModule('decoder', new Decoder(weight, this.bias));
  }
}

class OnlyMLMHead extends Module {
  readonly predictions: Predictions;

  constructor(config: NystromformerConfig, wordEmbeddings: Tensor) {
    super();
    this.predictions = this.addModule('predictions', new Predictions(config, wordEmbeddings));
  }
}

export class NystromformerForMaskedLM extends NystromformerHeadModel {
  readonly architecture: string = 'NystromformerForMaskedLM';
  readonly cls: OnlyMLMHead;
  readonly #act: (x: Tensor) => Tensor;

  constructor(config: Partial<NystromformerConfig> = {}, attention: AttentionOptions = {}) {
    super(config, attention);
    this.cls = this.addModule('cls', new OnlyMLMHead(this.config, this.nystromformer.embeddings.wordEmbeddings.weight));
    this.#act = activation(this.config.hidden_act);
  }

  /** logits (B, n, vocab); loss: cross-entropy over labels ≠ −100 (int32, (B, n)). */
  forward(inputs: NystromformerInputs & { labels?: Tensor }, options: OutputOptions = {}): HeadOutput {
    const out = this.encode(inputs, options);
    const logits = this.predict(out.lastHiddenState);
    const V = this.config.vocab_size;
    const loss = inputs.labels && crossEntropy(reshape(logits, [-1, V]), reshape(inputs.labels, [-1]));
    return { logits, ...(loss && { loss }), ...extras(out) };
  }

  /** The MLM head alone: hidden states (…, hidden) → vocabulary logits (…, vocab). */
  predict(hidden: Tensor): Tensor {
    const { transform, decoder } = this.cls.predictions;
    const h = transform.norm.forward(this.#act(transform.dense.forward(hidden)));
    const rows = reshape(h, [-1, this.config.hidden_size]);
    const logits = add(matmul(rows, decoder.weight, { transB: true }), decoder.bias);
    return reshape(logits, [...hidden.shape.slice(0, -1), this.config.vocab_size]);
  }
}
