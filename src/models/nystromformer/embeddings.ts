/** Word + token-type + position embeddings, LayerNorm, dropout. Position ids start at 2 (docs/algorithm.md §2). */
import { add, slice, Tensor } from '../../engine/index.js';
import { Dropout, Embedding, LayerNorm, Module } from '../../nn/index.js';
import { NystromformerConfig } from './config.js';

/** Hugging Face offsets position ids by the padding index + 1. */
const POSITION_OFFSET = 2;

export class NystromformerEmbeddings extends Module {
  readonly wordEmbeddings: Embedding;
  readonly positionEmbeddings: Embedding;
  readonly tokenTypeEmbeddings: Embedding;
  readonly norm: LayerNorm;
  readonly dropout: Dropout;

  constructor(private readonly config: NystromformerConfig) {
    super();
    const h = config.hidden_size;
    const std = config.initializer_range;
    this.wordEmbeddings = this.addModule('word_embeddings', new Embedding(config.vocab_size, h, { std, paddingIdx: config.pad_token_id ?? undefined }));
    this.positionEmbeddings = this.addModule('position_embeddings', new Embedding(config.max_position_embeddings + POSITION_OFFSET, h, { std }));
    this.tokenTypeEmbeddings = this.addModule('token_type_embeddings', new Embedding(config.type_vocab_size, h, { std }));
    this.norm = this.addModule('LayerNorm', new LayerNorm(h, config.layer_norm_eps));
    this.dropout = this.addModule('dropout', new Dropout(config.hidden_dropout_prob));
  }

  /** inputIds (B, n) int32; tokenTypeIds (B, n) int32 or none (all 0). */
  forward(inputIds: Tensor, tokenTypeIds?: Tensor): Tensor {
    const n = inputIds.shape[inputIds.rank - 1];
    const limit = this.config.max_position_embeddings;
    if (n > limit) {
      throw new Error(
        `Nystromformer: an input of ${n} tokens is longer than the model's position table ` +
        `(max_position_embeddings = ${limit}); truncate it to ${limit} tokens or use a model with a longer table`,
      );
    }
    const positions = Tensor.from(Int32Array.from({ length: n }, (_, i) => i + POSITION_OFFSET), [n], 'int32');
    const words = this.wordEmbeddings.forward(inputIds);
    const types = tokenTypeIds
      ? this.tokenTypeEmbeddings.forward(tokenTypeIds)
      : slice(this.tokenTypeEmbeddings.weight, 0, 0, 1); // type 0 everywhere, broadcast
    const x = add(add(words, types), this.positionEmbeddings.forward(positions));
    return this.dropout.forward(this.norm.forward(x));
  }
}
