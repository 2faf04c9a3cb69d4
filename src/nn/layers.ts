/** The building blocks of the models: Linear, Embedding, LayerNorm, Dropout, DepthwiseConv. */
import {
  add, assign, depthwiseConv1d, dropout, fmt, full, layerNorm, matmul, randn, reshape, take, Tensor, zeros,
} from '../engine/index.js';
import { Module } from './module.js';
import { nextSeed } from './random.js';

/** y = x·Wᵀ + b over the last axis; weight (out, in) as PyTorch stores it. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: { bias?: boolean; std?: number } = {}) {
    super();
    this.weight = this.addParameter('weight', randn([outFeatures, inFeatures], nextSeed(), 0, options.std ?? 0.02));
    this.bias = options.bias === false ? null : this.addParameter('bias', zeros([outFeatures]));
  }

  forward(x: Tensor): Tensor {
    const features = x.shape[x.rank - 1];
    if (features !== this.inFeatures) {
      throw new Error(`Linear(${this.inFeatures} → ${this.outFeatures}): input ${fmt(x.shape)} has ${features} features`);
    }
    // One GEMM over all leading axes.
    const rows = reshape(x, [-1, features]);
    const y = matmul(rows, this.weight, { transB: true });
    return reshape(this.bias ? add(y, this.bias) : y, [...x.shape.slice(0, -1), this.outFeatures]);
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
}

/**
 * One k-tap filter per head along the sequence axis of (B, H, n, d), zero padding ⌊k/2⌋ on both
 * ends, no bias: PyTorch's Conv2d(H, H, (k, 1), groups=H) with weight (H, 1, k, 1).
 */
export class DepthwiseConv extends Module {
  readonly weight: Tensor;

  constructor(readonly heads: number, readonly kernelSize: number, options: { std?: number } = {}) {
    super();
    this.weight = this.addParameter('weight', randn([heads, 1, kernelSize, 1], nextSeed(), 0, options.std ?? 0.02));
  }

  forward(x: Tensor): Tensor {
    return depthwiseConv1d(x, this.weight);
  }
}
