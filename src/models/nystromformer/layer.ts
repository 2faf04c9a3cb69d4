/**
 * A post-LN BERT block as Hugging Face names it:
 *   attention.self → attention.output (dense, dropout, LayerNorm(x + input))
 *   → intermediate (dense, activation) → output (dense, dropout, LayerNorm(x + attention output)).
 */
import type { Tensor } from '../../engine/index.js';
import { Dropout, LayerNorm, Linear, Module, release, stage } from '../../nn/index.js';
import { activation, FREES_INPUT } from '../activations.js';
import { NystromformerConfig } from './config.js';
import { AttentionSettings, NystromformerSelfAttention } from './self-attention.js';

/** dense → dropout → LayerNorm(· + residual): both `attention.output` and `output`. */
class ResidualOutput extends Module {
  readonly dense: Linear;
  readonly norm: LayerNorm;
  readonly dropout: Dropout;

  constructor(inFeatures: number, config: NystromformerConfig) {
    super();
    this.dense = this.addModule('dense', new Linear(inFeatures, config.hidden_size, { std: config.initializer_range }));
    this.norm = this.addModule('LayerNorm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.dropout = this.addModule('dropout', new Dropout(config.hidden_dropout_prob));
  }

  forward(x: Tensor, residual: Tensor): Tensor {
    return this.norm.forward(this.dropout.addTo(residual, this.dense.forward(x)));
  }
}

class NystromformerAttention extends Module {
  readonly self: NystromformerSelfAttention;
  readonly output: ResidualOutput;

  constructor(config: NystromformerConfig, settings: AttentionSettings) {
    super();
    this.self = this.addModule('self', new NystromformerSelfAttention(config, settings));
    this.output = this.addModule('output', new ResidualOutput(config.hidden_size, config));
  }
}

class Intermediate extends Module {
  readonly dense: Linear;

  constructor(config: NystromformerConfig) {
    super();
    this.dense = this.addModule('dense', new Linear(config.hidden_size, config.intermediate_size, { std: config.initializer_range }));
  }
}

export class NystromformerLayer extends Module {
  readonly attention: NystromformerAttention;
  readonly intermediate: Intermediate;
  readonly output: ResidualOutput;
  readonly #act: (x: Tensor) => Tensor;

  constructor(config: NystromformerConfig, settings: AttentionSettings) {
    super();
    this.attention = this.addModule('attention', new NystromformerAttention(config, settings));
    this.intermediate = this.addModule('intermediate', new Intermediate(config));
    this.output = this.addModule('output', new ResidualOutput(config.intermediate_size, config));
    this.#act = activation(config.hidden_act);
  }

  forward(x: Tensor, mask: Tensor | undefined, wantAttention = false): { hidden: Tensor; attention?: Tensor } {
    const { context, attention } = stage(() => this.attention.self.forward(x, mask, wantAttention));
    const attended = stage(() => this.attention.output.forward(context, x));
    release(context);
    const hidden = stage(() => {
      const pre = this.intermediate.dense.forward(attended);
      const activated = this.#act(pre);
      if (FREES_INPUT.has(this.#act)) pre.dispose(); // in training, kept until the step ends otherwise
      return this.output.forward(activated, attended);
    });
    release(attended);
    return attention ? { hidden, attention } : { hidden };
  }
}
