/** Neural-network functions: layer norm (fused kernels), dropout and losses (composed from primitives). */
import { composite, isGradEnabled, record } from '../autograd.js';
import { fmt, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { backend } from '../engine.js';
import { add, div, eq, mul, sub, where } from './binary.js';
import { full } from './creation.js';
import { gather } from './indexing.js';
import { empty, run, withContiguous } from './kernel.js';
import { mean, sum } from './reduce.js';
import { reshape } from './shape-ops.js';
import { logSoftmax } from './softmax.js';
import { abs, addScalar, exp, log, mulScalar, neg, relu, square } from './unary.js';

/** (x − μ)/√(σ² + eps)·γ + β over the last axis (biased variance, as PyTorch). */
export function layerNorm(x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  const dim = x.shape[x.rank - 1];
  for (const p of [weight, bias]) {
    if (p && (p.rank !== 1 || p.shape[0] !== dim)) {
      throw new Error(`layerNorm: parameter ${fmt(p.shape)} does not match last axis of ${fmt(x.shape)}`);
    }
  }
  if (x.dtype !== 'float32') throw new Error(`layerNorm: expects float32, got ${x.dtype} ${fmt(x.shape)}`);
  // One kernel each way (kernels/layer-norm.ts); the statistics are kept for the backward.
  const rows = dim === 0 ? 0 : x.size / dim;
  const out = empty(x.shape);
  const stats = empty([rows, 2]);
  const params = [weight, bias].filter((p): p is Tensor => p !== undefined);
  withContiguous([x, ...params], (xc, ...ps) => {
    if (rows > 0) run('layerNormRows', [xc, weight ? ps[0] : null, bias ? ps[params.length - 1] : null, out, stats, rows, dim, eps], x.size * 8);
  });
  const inputs = [x, ...params];
  if (!inputs.some((t) => t.requiresGrad) || !isGradEnabled()) {
    stats.dispose();
    return out;
  }
  return record(out, 'layerNorm', inputs, (dy) => {
    const dx = empty(x.shape);
    const dyXhat = weight ? empty(x.shape) : null;
    withContiguous([x, dy, ...(weight ? [weight] : [])], (xc, g, w) => {
      if (rows > 0) run('layerNormRowsGrad', [xc, w ?? null, stats, g, dx, dyXhat, rows, dim], x.size * 12);
    });
    const grads = [dx];
    if (weight) {
      grads.push(sumRows(dyXhat!, rows, dim));
      dyXhat!.dispose();
    }
    if (bias) grads.push(sumRows(dy, rows, dim));
    return grads;
  });
}

/** Σ over the leading axes of t, as [cols] (a parameter's gradient). */
function sumRows(t: Tensor, rows: number, cols: number): Tensor {
  return sum(reshape(t, [rows, cols]), 0);
}

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p).
 * The mask comes from a counter-based generator: the same seed gives the same mask.
 */
export function dropout(x: Tensor, p: number, seed: number, training = true): Tensor {
  return dropoutKernel(x, null, p, seed, training);
}

/** residual + dropout(x) in one pass (a residual connection): the same values as add(residual, dropout(x)). */
export function addDropout(residual: Tensor, x: Tensor, p: number, seed: number, training = true): Tensor {
  if (!sameShape(residual.shape, x.shape)) throw new Error(`addDropout: residual ${fmt(residual.shape)} and x ${fmt(x.shape)} differ`);
  return dropoutKernel(x, residual, p, seed, training);
}

function dropoutKernel(x: Tensor, residual: Tensor | null, p: number, seed: number, training: boolean): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return residual ? add(residual, x) : mulScalar(x, 1);
  const inputs = residual ? [x, residual] : [x];
  for (const t of inputs) {
    if (t.dtype !== 'float32') throw new Error(`dropout: expects float32, got ${t.dtype} ${fmt(t.shape)}`);
  }
  // One kernel writes x·mask (+ residual), mask = 1/(1 − p) where u − p > 0 for u the stream's
  // uniform, else 0; for the backward it keeps the mask as bits (n/32 words: a float mask would
  // hold n floats from forward to backward).
  const keep = isGradEnabled() && x.requiresGrad;
  const bits = keep ? empty([Math.ceil(x.size / 32)], 'int32') : null;
  const out = empty(x.shape);
  const scale = 1 / (1 - p);
  withContiguous(inputs, (xc, rc) => run('dropout', [xc, rc ?? null, bits, out, x.size, seed | 0, p, scale], x.size));
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return out;
  return record(out, 'dropout', inputs, (dy) => {
    const dx = bits && empty(x.shape);
    if (dx) withContiguous([dy], (dyc) => run('dropoutGrad', [dyc, bits!, dx, x.size, scale], x.size));
    return [dx, ...(residual ? [dy] : [])];
  });
}

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (default −100, as PyTorch). */
  ignoreIndex?: number;
  /** ε: the target distribution is (1−ε)·onehot + ε/C. */
  labelSmoothing?: number;
}

/**
 * Mean cross-entropy of logits [N, C] against int32 targets [N], over targets ≠ ignoreIndex.
 * loss_i = (1−ε)·(−log p[t_i]) + ε·mean_c(−log p[c])
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, labelSmoothing = 0 } = options;
  if (logits.rank !== 2 || targets.rank !== 1 || targets.shape[0] !== logits.shape[0]) {
    throw new Error(`crossEntropy: logits must be [N, C] and targets [N], got ${fmt(logits.shape)} and ${fmt(targets.shape)}`);
  }
  if (targets.dtype !== 'int32') throw new Error(`crossEntropy: targets must be int32, got ${targets.dtype}`);
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  const [n, classes] = logits.shape;
  return composite([logits], () => {
    const { valid, safe, count } = targetRows(targets, classes, ignoreIndex);
    const lp = logSoftmax(logits);
    let perRow = neg(reshape(gather(lp, reshape(safe, [n, 1]), -1), [n]));
    if (labelSmoothing > 0) {
      const smooth = neg(mean(lp, -1));
      perRow = add(mulScalar(perRow, 1 - labelSmoothing), mulScalar(smooth, labelSmoothing));
    }
    // Ignored rows go through where(), so nothing computed for them can leak into the mean.
    const kept = where(valid, perRow, full([1], 0));
    // No counted row: NaN (0/0 on the device).
    return typeof count === 'number' ? mulScalar(sum(kept), count === 0 ? NaN : 1 / count) : div(sum(kept), count);
  });
}

/**
 * Which rows count (1 or 0), their targets made safe to gather (ignored rows read class 0), and
 * how many count. A backend that reads synchronously checks every target on the host; a GPU one
 * keeps the targets on the device (no round trip per step) and leaves the range check to the
 * caller's data.
 */
function targetRows(targets: Tensor, classes: number, ignoreIndex: number): { valid: Tensor; safe: Tensor; count: number | Tensor } {
  const n = targets.shape[0];
  if (!backend().canReadSync) {
    return withContiguous([targets], (t) => {
      const asFloat = empty([n]);
      run('castI32F32', [t, asFloat, n], n);
      const valid = addScalar(neg(eq(asFloat, full([1], ignoreIndex))), 1);
      const safe = empty([n], 'int32');
      const safeFloat = mul(asFloat, valid);
      run('castF32I32', [safeFloat, safe, n], n);
      asFloat.dispose();
      safeFloat.dispose();
      return { valid, safe, count: sum(valid) };
    });
  }
  const t = withContiguous([targets], (c) => c.toArray());
  const valid = new Float32Array(n);
  const safe = new Int32Array(n);
  t.forEach((v, i) => {
    if (v === ignoreIndex) return;
    if (v < 0 || v >= classes) throw new Error(`crossEntropy: target ${v} at row ${i} is out of range [0, ${classes}) and not ignoreIndex ${ignoreIndex}`);
    valid[i] = 1;
    safe[i] = v;
  });
  return { valid: Tensor.from(valid, [n]), safe: Tensor.from(safe, [n], 'int32'), count: valid.reduce((s, v) => s + v, 0) };
}

/** Mean squared error over all elements; the shapes must match (no silent broadcasting). */
export function mseLoss(prediction: Tensor, target: Tensor): Tensor {
  if (!sameShape(prediction.shape, target.shape)) {
    throw new Error(`mseLoss: prediction ${fmt(prediction.shape)} and target ${fmt(target.shape)} differ`);
  }
  return composite([prediction, target], () => mean(square(sub(prediction, target))));
}

/**
 * Mean binary cross-entropy of logits against targets in [0, 1] (PyTorch's BCEWithLogitsLoss),
 * in the stable form max(x, 0) − x·y + log(1 + e^−|x|).
 */
export function binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor): Tensor {
  if (!sameShape(logits.shape, targets.shape)) {
    throw new Error(`binaryCrossEntropyWithLogits: logits ${fmt(logits.shape)} and targets ${fmt(targets.shape)} differ`);
  }
  return composite([logits, targets], () =>
    mean(add(sub(relu(logits), mul(logits, targets)), log(addScalar(exp(neg(abs(logits))), 1)))));
}
