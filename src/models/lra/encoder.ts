/**
 * The Long Range Arena encoder as the Nyströmformer authors ran it (docs/algorithm.md §3): token and learned
 * position embeddings, pre-LN blocks with a final LayerNorm, mean pooling (see `padTo`), and
 * a classifier Linear(dim, 128) → ReLU → Linear(128, classes). For Retrieval, a dual encoder whose
 * head sees [x₀, x₁, x₀·x₁, x₀ − x₁]. The attention is chosen by name:
 *   softmax | nystrom-32|64|128|256 (conv 35) | linformer-<k> | performer-<m>
 *
 * Initialised as the official LRA code (github.com/mlpen/Nystromformer, LRA/code) leaves it:
 *   token and position embeddings   N(0, 0.02)              (its explicit normal_(std = 0.02))
 *   every Linear (W_q, W_k, W_v, the output projection, the MLP block, the classifier and dual heads)
 *                                   weight and bias U(±1/√fan_in)   (nn.Linear's default)
 *   the Nyström depthwise conv      U(±1/√35), no bias       (nn.Conv2d's default, fan_in = 1·35·1)
 *   Linformer's projections         N(0, 0.02)              (an nn.Parameter there, normal_(std = 0.02))
 *   LayerNorm                       ones / zeros
 * There, Linformer has one projection per head, shared by K and V and by all layers; here E and F are
 * separate, per layer, shared by the heads — only their initialisation follows the official code.
 *
 * Dropout as the official code: after the embeddings, the attention output and both MLP layers, and on
 * softmax attention's probabilities (its attention_dropout, equal to dropout_prob in every LRA config: here
 * the one `dropout`); Nyström, Linformer and Performer attention have none. The fused softmax kernel
 * drops probabilities tile by tile from a seeded mask it regenerates in the backward (softmax-attention.ts).
 */
import {
  add, cast, checkedBoundary, concat, contiguous, crossEntropy, div, fmt, full, gelu, maximum, mul, mulScalar, pad, permute, randn, relu, reshape, slice, sub, sum, Tensor,
} from '../../engine/index.js';
import {
  assertFinite, canCheckValues, checkMaskValues, linformerAttention, nystromAttention, orthogonalRandomFeatures, performerAttention, softmaxAttention,
} from '../../attention/index.js';
import { DepthwiseConv, Dropout, Embedding, LayerNorm, Linear, Module, ModuleList, nextSeed } from '../../nn/index.js';

export interface LraConfig {
  vocabSize: number;
  /** Longest input (the position table and Linformer's projections). */
  maxLength: number;
  classes: number;
  /** e.g. 'softmax', 'nystrom-64', 'linformer-256', 'performer-256'. */
  attention: string;
  dim?: number;
  ffn?: number;
  layers?: number;
  heads?: number;
  dropout?: number;
  /** Retrieval: two documents per example, one shared encoder. */
  dual?: boolean;
  /**
   * The official code's fixed-length inputs: every input is padded with masked tokens to this length, and
   * pooling averages the masked final states over all padTo positions (so it scales with the true length).
   * 0 (the default): inputs keep their length and pooling averages over the unmasked tokens.
   */
  padTo?: number;
}

type Kind = { name: 'softmax' } | { name: 'nystrom' | 'linformer' | 'performer'; size: number };

export function parseAttention(spec: string): Kind {
  if (spec === 'softmax') return { name: 'softmax' };
  const m = /^(nystrom|linformer|performer)-(\d+)$/.exec(spec);
  if (!m || Number(m[2]) < 1) throw new Error(`LRA attention must be softmax, nystrom-<m>, linformer-<k> or performer-<m>, got '${spec}'`);
  return { name: m[1] as 'nystrom' | 'linformer' | 'performer', size: Number(m[2]) };
}

/** The Nyström conv kernel of every LRA run. */
export const LRA_CONV = 35;
/** The Nyström settings of every LRA run (the official code's): the ONNX export reads them too. */
export const LRA_NYSTROM = { pinvIterations: 6, pinvInit: 'original', variant: 'original', segments: 'uneven' } as const;
/** The std of the official code's explicit normal initialisations (embeddings, Linformer's projections). */
export const LRA_EMBEDDING_STD = 0.02;
/** Linear and conv layers keep PyTorch's default initialisation, as in the official code. */
const PYTORCH = { init: 'pytorch-default' } as const;

class LraAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly out: Linear;
  readonly conv: DepthwiseConv | null = null;
  readonly projectKeys: Tensor | null = null;
  readonly projectValues: Tensor | null = null;
  /** Performer's random features (m, d), fixed at construction: a buffer, saved with the weights but not trained. */
  readonly features: Tensor | null = null;

  constructor(dim: number, readonly heads: number, readonly kind: Kind, maxLength: number, readonly attentionDropout: number) {
    super();
    this.query = this.addModule('query', new Linear(dim, dim, PYTORCH));
    this.key = this.addModule('key', new Linear(dim, dim, PYTORCH));
    this.value = this.addModule('value', new Linear(dim, dim, PYTORCH));
    this.out = this.addModule('out', new Linear(dim, dim, PYTORCH));
    if (kind.name === 'nystrom') this.conv = this.addModule('conv', new DepthwiseConv(heads, LRA_CONV, PYTORCH));
    if (kind.name === 'linformer') {
      this.projectKeys = this.addParameter('E', randn([kind.size, maxLength], nextSeed(), 0, LRA_EMBEDDING_STD));
      this.projectValues = this.addParameter('F', randn([kind.size, maxLength], nextSeed(), 0, LRA_EMBEDDING_STD));
    }
    if (kind.name === 'performer') this.features = this.addBuffer('features', orthogonalRandomFeatures(kind.size, dim / heads, nextSeed()));
  }

  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    const [B, n, dim] = x.shape;
    const kind = this.kind;
    // (B, n, dim) → (B, H, n, d): a strided view, or a copy whose source is freed at once. The copy is
    // made once where the attention would copy the view at every use: V feeds products and the
    // Nyström conv (forward and backward), and the fused softmax kernels read all three
    // contiguous. Nyström's Q and K go straight into a product with the mask.
    const split = (projection: Linear, copy: boolean) => {
      const flat = projection.forward(x);
      const shaped = reshape(flat, [B, n, this.heads, dim / this.heads]);
      const view = permute(shaped, [0, 2, 1, 3]);
      if (!copy) return view;
      const laid = contiguous(view);
      for (const t of [flat, shaped, view]) if (t !== laid) t.dispose();
      return laid;
    };
    const q = split(this.query, kind.name === 'softmax');
    const k = split(this.key, kind.name === 'softmax');
    const v = split(this.value, true);
    let o: Tensor;
    if (kind.name === 'softmax') {
      const p = this.attentionDropout;
      o = softmaxAttention(q, k, v, { mask, ...(this.training && p > 0 && { dropout: { p, seed: nextSeed() } }) });
    }
    else if (kind.name === 'nystrom') o = nystromAttention(q, k, v, { ...LRA_NYSTROM, numLandmarks: kind.size, mask, convWeight: this.conv!.weight });
    else if (kind.name === 'performer') o = performerAttention(q, k, v, { features: this.features!, mask });
    else {
      const cut = (p: Tensor) => (n === p.shape[1] ? p : contiguous(slice(p, 1, 0, n)));
      o = linformerAttention(q, k, v, { projectKeys: cut(this.projectKeys!), projectValues: cut(this.projectValues!), mask });
    }
    const merged = contiguous(permute(o, [0, 2, 1, 3]));
    if (kind.name === 'nystrom') o.dispose(); // its backward keeps its own tensors (softmax's and Performer's read their output)
    return this.out.forward(reshape(merged, [B, n, dim]));
  }
}

class LraBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attention: LraAttention;
  readonly norm2: LayerNorm;
  readonly ffnIn: Linear;
  readonly ffnOut: Linear;
  readonly dropout: Dropout;

  constructor(dim: number, ffn: number, heads: number, kind: Kind, maxLength: number, p: number) {
    super();
    this.norm1 = this.addModule('norm1', new LayerNorm(dim));
    this.attention = this.addModule('attention', new LraAttention(dim, heads, kind, maxLength, p));
    this.norm2 = this.addModule('norm2', new LayerNorm(dim));
    this.ffnIn = this.addModule('ffn_in', new Linear(dim, ffn, PYTORCH));
    this.ffnOut = this.addModule('ffn_out', new Linear(ffn, dim, PYTORCH));
    this.dropout = this.addModule('dropout', new Dropout(p));
  }

  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    const attended = this.dropout.addTo(x, this.attention.forward(this.norm1.forward(x), mask));
    const pre = this.ffnIn.forward(this.norm2.forward(attended));
    // Backwards keep what they need (gelu its slope, dropout its mask bits), not these inputs: freed
    // now rather than held, n×ffn floats each, until the step ends.
    const activated = gelu(pre);
    pre.dispose();
    const dropped = this.dropout.forward(activated);
    if (dropped !== activated) activated.dispose();
    const hidden = this.ffnOut.forward(dropped);
    return this.dropout.addTo(attended, hidden);
  }
}

export class LraEncoder extends Module {
  readonly tokens: Embedding;
  readonly positions: Embedding;
  readonly blocks: ModuleList<LraBlock>;
  readonly finalNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(readonly config: Required<Omit<LraConfig, 'dual'>>) {
    super();
    const { vocabSize, maxLength, dim, ffn, layers, heads, dropout } = config;
    const kind = parseAttention(config.attention);
    if (dim % heads !== 0) throw new Error(`LRA encoder: dim ${dim} is not divisible by heads ${heads}`);
    if (config.padTo !== 0 && !(Number.isInteger(config.padTo) && config.padTo > 0 && config.padTo <= maxLength)) {
      throw new Error(`LRA encoder: padTo must be 0 or an integer in [1, maxLength = ${maxLength}], got ${config.padTo}`);
    }
    this.tokens = this.addModule('tokens', new Embedding(vocabSize, dim, { std: LRA_EMBEDDING_STD }));
    this.positions = this.addModule('positions', new Embedding(maxLength, dim, { std: LRA_EMBEDDING_STD }));
    this.blocks = this.addModule('blocks', new ModuleList(Array.from({ length: layers }, () => new LraBlock(dim, ffn, heads, kind, maxLength, dropout))));
    this.finalNorm = this.addModule('final_norm', new LayerNorm(dim));
    this.dropout = this.addModule('dropout', new Dropout(dropout));
  }

  /** ids (B, n) int32, mask (B, n) 0/1 → the pooled final states (B, dim): see `LraConfig.padTo`. */
  forward(ids: Tensor, mask: Tensor): Tensor {
    const { maxLength, padTo } = this.config;
    if (ids.rank !== 2) throw new Error(`LRA encoder: ids must be (batch, sequence), got ${fmt(ids.shape)}`);
    if (ids.shape[1] > maxLength) throw new Error(`LRA encoder: an input of ${ids.shape[1]} tokens is longer than maxLength ${maxLength}`);
    if (mask.rank !== 2 || mask.shape[0] !== ids.shape[0] || mask.shape[1] !== ids.shape[1]) throw new Error(`LRA encoder: mask ${fmt(mask.shape)} does not match ids ${fmt(ids.shape)}`);
    if (padTo > ids.shape[1]) {
      const widths = [[0, 0], [0, padTo - ids.shape[1]]] as const;
      [ids, mask] = [pad(ids, widths), pad(mask, widths)];
    }
    const [B, n] = ids.shape;
    // The batch's one check of its mask and one of its output; the blocks' ops skip their own reads.
    // A batch without padding runs its attention unmasked: multiplying by ones and adding zero
    // biases changes no bit, so only the time goes (Image and Pathfinder batches are all tokens).
    const padded = canCheckValues() ? checkMaskValues('LRA encoder', mask.toArray(), n) : true;
    if (mask.dtype === 'int32') mask = cast(mask, 'float32'); // batches from collate
    const positions = Tensor.from(Int32Array.from({ length: n }, (_, i) => i), [n], 'int32');
    let x = this.dropout.forward(add(this.tokens.forward(ids), this.positions.forward(positions)));
    checkedBoundary(() => {
      for (const block of this.blocks.items) x = block.forward(x, padded ? mask : undefined);
    });
    const weights = reshape(mask, [B, n, 1]);
    const total = sum(mul(this.finalNorm.forward(x), weights), 1); // (B, dim)
    const pooled = padTo
      ? mulScalar(total, 1 / n) // the official mean over all positions, pads counting as zeros
      : div(total, maximum(sum(weights, 1), full([1], 1))); // an all-padding row pools to 0, not NaN
    assertFinite('LRA encoder', 'pooled output', pooled);
    return pooled;
  }
}

export interface LraInputs {
  inputIds: Tensor;
  attentionMask: Tensor;
  /** Retrieval: the second document. */
  inputIds2?: Tensor;
  attentionMask2?: Tensor;
  labels?: Tensor;
}

export class LraClassifier extends Module {
  readonly encoder: LraEncoder;
  readonly hidden: Linear;
  readonly output: Linear;
  readonly dual: boolean;
  /** The config with every default filled in: what a run folder's config.json records. */
  readonly config: Required<LraConfig>;

  constructor(config: LraConfig) {
    super();
    const full = { dim: 64, ffn: 128, layers: 2, heads: 2, dropout: 0.1, padTo: 0, ...config, dual: config.dual === true };
    const { dual, ...encoderConfig } = full;
    this.encoder = this.addModule('encoder', new LraEncoder(encoderConfig));
    this.hidden = this.addModule('hidden', new Linear(dual ? 4 * full.dim : full.dim, 128, PYTORCH));
    this.output = this.addModule('output', new Linear(128, full.classes, PYTORCH));
    this.dual = dual;
    this.config = full;
  }

  forward(inputs: LraInputs): { logits: Tensor; loss?: Tensor } {
    const x0 = this.encoder.forward(inputs.inputIds, inputs.attentionMask);
    let features = x0;
    if (this.dual) {
      if (!inputs.inputIds2 || !inputs.attentionMask2) throw new Error('LRA dual encoder: inputIds2 and attentionMask2 are required (Retrieval has two documents)');
      const x1 = this.encoder.forward(inputs.inputIds2, inputs.attentionMask2);
      features = concat([x0, x1, mul(x0, x1), sub(x0, x1)], 1);
    }
    const logits = this.output.forward(relu(this.hidden.forward(features)));
    const loss = inputs.labels && crossEntropy(logits, inputs.labels);
    return loss ? { logits, loss } : { logits };
  }
}
