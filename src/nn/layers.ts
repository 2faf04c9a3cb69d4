/** The building blocks of the models: Linear, Embedding, LayerNorm, Dropout, DepthwiseConv. */
import {
  add, addDropout, assign, depthwiseConv1d, disposeQ8Weights, dropout, fmt, full, layerNorm, linearQ8, matmul, q8Weights, rand, randn,
  reshape, take, Tensor, zeros, type Q8Weights,
} from '../engine/index.js';
import { Module } from './module.js';
import { nextSeed } from './random.js';

/**
 * How a Linear or DepthwiseConv starts:
 *   'normal'           weight N(0, std) (std 0.02 unless given), bias 0 — BERT's habit, the Hugging Face
 *                      family's initializer_range rule;
 *   'pytorch-default'  what nn.Linear / nn.Conv2d do when left alone: kaiming_uniform(a = √5), i.e.
 *                      gain √(2/(1+5)) · √(3/fan_in) = 1/√fan_in, so weight U(±1/√fan_in) and bias
 *                      U(±1/√fan_in) — the official LRA code's layers.
 */
export type WeightInit = 'normal' | 'pytorch-default';

export interface InitOptions {
  init?: WeightInit;
  /** 'normal' only. */
  std?: number;
}

/** U(−bound, bound) from the seed stream (so a run stays reproducible from its seed). */
function uniform(shape: number[], bound: number): Tensor {
  return rand(shape, nextSeed(), -bound, bound);
}

/** A weight of `shape` whose fan-in is `fanIn`, initialised by `options`. */
function initWeight(shape: number[], fanIn: number, options: InitOptions): Tensor {
  if (options.init === 'pytorch-default') return uniform(shape, 1 / Math.sqrt(fanIn));
  return randn(shape, nextSeed(), 0, options.std ?? 0.02);
}

/** y = x·Wᵀ + b over the last axis; weight (out, in) as PyTorch stores it. */
export class Linear extends Module {
  readonly bias: Tensor | null;
  #weight: Tensor | null;
  #q8: Q8Weights | null = null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: InitOptions & { bias?: boolean } = {}) {
    super();
    this.#weight = this.addParameter('weight', initWeight([outFeatures, inFeatures], inFeatures, options));
    const bias = options.bias === false ? null : options.init === 'pytorch-default' ? uniform([outFeatures], 1 / Math.sqrt(inFeatures)) : zeros([outFeatures]);
    this.bias = bias && this.addParameter('bias', bias);
  }

  /** The float32 weight [out, in]; gone once the layer is 8-bit. */
  get weight(): Tensor {
    if (!this.#weight) throw new Error(`${this.#name()} holds 8-bit weights: its float32 weight was dropped when it was quantized`);
    return this.#weight;
  }

  /** The 8-bit weights, or null while the layer is float32. */
  get q8(): Q8Weights | null {
    return this.#q8;
  }

  /**
   * Makes the layer 8-bit (inference only): codes [out, in] and scales [out] as quantizeWeights
   * makes them replace the float32 weight, which is freed; the bias stays float32.
   */
  useQ8(codes: Int8Array, scale: Float32Array): void {
    const q8 = q8Weights(codes, scale, this.outFeatures, this.inFeatures);
    if (this.#q8) disposeQ8Weights(this.#q8);
    this.#q8 = q8;
    if (this.#weight) {
      this.removeParameter('weight');
      this.#weight.dispose();
      this.#weight = null;
    }
  }

  forward(x: Tensor): Tensor {
    const features = x.shape[x.rank - 1];
    if (features !== this.inFeatures) throw new Error(`${this.#name()}: input ${fmt(x.shape)} has ${features} features`);
    if (this.#q8) return linearQ8(x, this.#q8, this.bias);
    // One GEMM over all leading axes, the bias added in its pass.
    const rows = reshape(x, [-1, features]);
    const y = matmul(rows, this.weight, { transB: true, ...(this.bias && { bias: this.bias }) });
    const out = reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    // The view shares y's storage: let it be the only owner, so that a caller's dispose frees the data.
    if (out !== y) y.dispose();
    return out;
  }

  override dispose(): void {
    super.dispose();
    if (this.#q8) disposeQ8Weights(this.#q8);
  }

  #name(): string {
    return `Linear(${this.inFeatures} → ${this.outFeatures})`;
  }
}

/** Rows of a (count, dim) table picked by int32 ids. */
export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(readonly count: number, readonly dim: number, options: { std?: number; paddingIdx?: number } = {}) {
    super();
    const init = randn([count, dim], nextSeed(), 0, options.std ?? 0.02);
    this.weight = this.addParameter('weight', init);
    const pad = options.paddingIdx;
    // PyTorch zeroes the padding row at initialisation.
    if (pad !== undefined && pad >= 0 && pad < count) zeroRow(this.weight, pad);
  }

  forward(ids: Tensor): Tensor {
    return take(this.weight, ids);
  }
}

function zeroRow(table: Tensor, row: number): void {
  const dim = table.shape[1];
  const view = table.view([dim], [1], table.offset + row * dim);
  assign(view, new Float32Array(dim));
  view.dispose();
}

/** LayerNorm over the last axis with a learned scale ('weight') and shift ('bias'). */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.weight = this.addParameter('weight', full([dim], 1));
    this.bias = this.addParameter('bias', zeros([dim]));
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** Inverted dropout, active only in training mode; each call draws a fresh mask from the seed stream. */
export class Dropout extends Module {
  constructor(readonly p: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.training && this.p > 0 ? dropout(x, this.p, nextSeed()) : x;
  }

  /** residual + forward(x), in one pass while training (a residual connection). */
  addTo(residual: Tensor, x: Tensor): Tensor {
    return this.training && this.p > 0 ? addDropout(residual, x, this.p, nextSeed()) : add(residual, x);
  }
}

/**
 * One k-tap filter per head along the sequence axis of (B, H, n, d), zero padding ⌊k/2⌋ on both
 * ends, no bias: PyTorch's Conv2d(H, H, (k, 1), groups=H) with weight (H, 1, k, 1).
 */
export class DepthwiseConv extends Module {
  readonly weight: Tensor;

  constructor(readonly heads: number, readonly kernelSize: number, options: InitOptions = {}) {
    super();
    // fan_in of a depthwise (k×1) kernel: in_channels / groups · k · 1 = k
    this.weight = this.addParameter('weight', initWeight([heads, 1, kernelSize, 1], kernelSize, options));
  }

  forward(x: Tensor): Tensor {
    return depthwiseConv1d(x, this.weight);
  }
}
