/**
 * Nyströmformer self-attention (`attention.self`): query/key/value projections, the attention its
 * plan picks (attention-plan.ts: HF's dense-or-Nyström choice, the paper's Nyström attention at any
 * length, or exact attention, O(n) in memory with the flash kernels), and the depthwise conv on V.
 */
import {
  add, contiguous, depthwiseConv1d, fmt, permute, reshape, Tensor,
} from '../../engine/index.js';
import { nystromAttention, nystromAttentionWithFactors, softmaxAttention, softmaxAttentionWithProbs, MAX_PROBS_LENGTH } from '../../attention/index.js';
import { DepthwiseConv, Linear, Module } from '../../nn/index.js';
import { NystromformerConfig, pinvInitOf } from './config.js';
import { attentionPlan } from './attention-plan.js';
import { ATTENTION_FIELD, savedAttentionOver, type AttentionSettings } from './saved-attention.js';

export type { AttentionMode, AttentionSettings } from './saved-attention.js';

/** Hugging Face's semantics, unless the config records the attention the model was saved with. */
export function defaultAttention(config: NystromformerConfig): AttentionSettings {
  const hf: AttentionSettings = { mode: 'hf', numLandmarks: config.num_landmarks, pinvInit: pinvInitOf(config), pinvIterations: 6 };
  return savedAttentionOver(hf, config[ATTENTION_FIELD]);
}

export interface SelfAttentionOutput {
  /** (B, n, hidden) */
  context: Tensor;
  /** The attention matrix when asked for: (B, H, n, n) when exact, F·Z (B, H, n, m) when Nyström. */
  attention?: Tensor;
}

export class NystromformerSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly conv: DepthwiseConv | null;
  readonly heads: number;

  constructor(private readonly config: NystromformerConfig, private readonly settings: AttentionSettings) {
    super();
    const h = config.hidden_size;
    const std = config.initializer_range;
    this.heads = config.num_attention_heads;
    this.query = this.addModule('query', new Linear(h, h, { std }));
    this.key = this.addModule('key', new Linear(h, h, { std }));
    this.value = this.addModule('value', new Linear(h, h, { std }));
    const k = config.conv_kernel_size;
    this.conv = k ? this.addModule('conv', new DepthwiseConv(this.heads, k, { std })) : null;
  }

  /** x (B, n, hidden); mask (B, n) float 0/1 or none. */
  forward(x: Tensor, mask: Tensor | undefined, wantAttention = false): SelfAttentionOutput {
    const [B, n, h] = x.shape;
    const split = (t: Tensor) => permute(reshape(t, [B, n, this.heads, h / this.heads]), [0, 2, 1, 3]);
    const q = split(this.query.forward(x));
    const k = split(this.key.forward(x));
    const v = split(this.value.forward(x));
    const { context, attention } = this.#attend(q, k, v, mask, wantAttention);
    const merged = reshape(contiguous(permute(context, [0, 2, 1, 3])), [B, n, h]);
    return attention ? { context: merged, attention } : { context: merged };
  }

  #attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | undefined, wantAttention: boolean): { context: Tensor; attention?: Tensor } {
    const plan = attentionPlan(this.config, this.settings);
    const n = q.shape[2];
    const convWeight = this.conv?.weight;
    if (plan.kind === 'dense') {
      // HF convolves the unmasked V in both branches.
      const { out, attention } = this.#exact(q, k, v, mask, wantAttention && n <= MAX_PROBS_LENGTH);
      return { context: convWeight ? add(out, depthwiseConv1d(v, convWeight)) : out, attention };
    }
    if (plan.kind === 'hf-nystrom' && n !== plan.length) {
      throw new Error(
        `NystromformerSelfAttention: Hugging Face's Nyström branch (num_landmarks ${plan.numLandmarks} ≠ ` +
        `segment_means_seq_len ${plan.length}) only handles inputs of exactly ` +
        `${plan.length} tokens, got ${n}; use attention: 'nystrom' for other lengths`,
      );
    }
    const { numLandmarks, pinvInit, pinvIterations } = plan;
    const options = { numLandmarks, pinvInit, pinvIterations, convWeight, mask, variant: plan.kind === 'hf-nystrom' ? 'hf' as const : 'original' as const };
    if (!wantAttention) return { context: nystromAttention(q, k, v, options) };
    const { out, factors } = nystromAttentionWithFactors(q, k, v, options);
    return { context: out, attention: factors?.fz };
  }

  #exact(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | undefined, withProbs: boolean): { out: Tensor; attention?: Tensor } {
    if (!withProbs) return { out: softmaxAttention(q, k, v, { mask }) };
    const r = softmaxAttentionWithProbs(q, k, v, { mask });
    return { out: r.out, attention: r.attention };
  }
}

/** Checks a (B, n) mask or token-type tensor against the input ids. */
export function checkSameShape(what: string, t: Tensor | undefined, like: Tensor): void {
  if (t && (t.rank !== like.rank || t.shape.some((d, i) => d !== like.shape[i]))) {
    throw new Error(`Nystromformer: ${what} ${fmt(t.shape)} does not match input_ids ${fmt(like.shape)}`);
  }
}
