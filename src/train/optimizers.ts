/**
 * Optimizers over named parameters: AdamW (decoupled weight decay, none on biases and LayerNorm by
 * default) and SGD with momentum. Updates, state and the clipping norm all live on the engine
 * (fused kernels, state as arena tensors); a step reads back one scalar, the gradient norm. A
 * checkpoint gets the state as Float32Arrays (state/loadState), in the same format as ever.
 */
import { adamwStep, keep, sgdStep, sumOfSquares, Tensor, zeros } from '../engine/index.js';

export type NamedParameters = readonly (readonly [string, Tensor])[];

/** Biases and LayerNorm weights take no weight decay (BERT's and Hugging Face's convention). */
export const noDecay = (name: string) => name.endsWith('.bias') || /LayerNorm\.weight$|(^|\.)norm\.weight$/.test(name);

export interface OptimizerState {
  step: number;
  /** Per parameter name, per slot ('m', 'v' or 'momentum'). */
  slots: Record<string, Record<string, Float32Array>>;
}

export abstract class Optimizer {
  step = 0;
  protected readonly params: [string, Tensor][];
  readonly #slots = new Map<string, Record<string, Tensor>>();

  constructor(params: NamedParameters) {
    // Tied weights are one tensor under two names: update it once, under its first name.
    const byTensor = new Map<Tensor, string>();
    for (const [name, t] of params) if (!byTensor.has(t)) byTensor.set(t, name);
    this.params = [...byTensor].map(([t, name]) => [name, t]);
  }

  /**
   * One update with learning rate lr; gradients are multiplied by gradScale (clipping, accumulation).
   * `momentum`, when a schedule sets it (onecycle), replaces AdamW's β₁ or SGD's momentum for this step.
   */
  apply(lr: number, gradScale = 1, momentum?: number): void {
    this.step++;
    const withGrad = this.params.flatMap(([name, p]) => (p.grad ? [{ name, w: p, g: p.grad }] : []));
    if (withGrad.length > 0) this.update(withGrad, lr, gradScale, momentum);
  }

  /** Updates every parameter that has a gradient, in one engine call. */
  protected abstract update(params: readonly { name: string; w: Tensor; g: Tensor }[], lr: number, gradScale: number, momentum?: number): void;

  /** The state tensor `key` of a parameter, zeros at first (flat, as checkpoints store it). */
  protected slot(name: string, key: string, size: number): Tensor {
    let s = this.#slots.get(name);
    if (!s) this.#slots.set(name, (s = {}));
    return (s[key] ??= keep(zeros([size])));
  }

  /** The global L2 norm of the gradients, and the factor that clips it to maxNorm (1 when below or maxNorm ≤ 0). */
  async clip(maxNorm: number): Promise<{ norm: number; scale: number }> {
    const norm = Math.sqrt(await sumOfSquares(this.params.flatMap(([, p]) => (p.grad ? [p.grad] : []))));
    return { norm, scale: maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1 };
  }

  /** Frees every gradient (the next backward starts from zero). */
  zeroGrad(): void {
    for (const [, p] of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** The slots each parameter has once it has been updated ('m' and 'v', 'momentum', or none). */
  protected abstract slotNames(): readonly string[];

  /** The state after `step` updates; every parameter has its slots (zeros where it had no gradient yet), so a checkpoint is complete. */
  async state(): Promise<OptimizerState> {
    if (this.step > 0) for (const [name, p] of this.params) for (const key of this.slotNames()) this.slot(name, key, p.size);
    const slots: OptimizerState['slots'] = {};
    for (const [name, s] of this.#slots) {
      slots[name] = {};
      for (const [key, t] of Object.entries(s)) slots[name][key] = (await t.read()) as Float32Array;
    }
    return { step: this.step, slots };
  }
  /** Checks a saved state against this optimizer's parameters: every slot of every parameter, of its size; errors name `source`. */
  checkState(state: OptimizerState, source = 'optimizer state'): void {
    if (!Number.isSafeInteger(state.step) || state.step < 0) throw new Error(`${source}: step must be a non-negative integer, got ${state.step}`);
    const sizes = new Map(this.params.map(([n, p]) => [n, p.size]));
    for (const [name, s] of Object.entries(state.slots)) {
      if (!sizes.has(name)) throw new Error(`${source}: '${name}' is not a parameter of this model`);
      for (const key of Object.keys(s)) if (!this.slotNames().includes(key)) throw new Error(`${source}: '${name}::${key}' is not a slot of this optimizer (${this.slotNames().join(', ') || 'none'})`);
    }
    if (state.step === 0) return;
    for (const [name, size] of sizes) {
      for (const key of this.slotNames()) {
        const data = state.slots[name]?.[key];
        if (!data) throw new Error(`${source}: '${name}::${key}' is missing`);
        if (data.length !== size) throw new Error(`${source}: '${name}::${key}' has ${data.length} values but the parameter has ${size}`);
      }
    }
  }

  loadState(state: OptimizerState): void {
    this.checkState(state);
    this.dispose();
    this.step = state.step;
    for (const [name, s] of Object.entries(state.slots)) {
      this.#slots.set(name, Object.fromEntries(Object.entries(s).map(([key, data]) => [key, keep(Tensor.from(data))])));
    }
  }

  /** Frees the state tensors (a later update starts them from zeros again). */
  dispose(): void {
    for (const s of this.#slots.values()) for (const t of Object.values(s)) t.dispose();
    this.#slots.clear();
  }
}

export interface AdamWOptions {
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Which parameters skip weight decay (default: biases and LayerNorm weights). */
  decayExempt?: (name: string) => boolean;
}

export class AdamW extends Optimizer {
  readonly #beta1: number;
  readonly #beta2: number;
  readonly #eps: number;
  readonly #decay: number;
  readonly #exempt: (name: string) => boolean;

  constructor(params: NamedParameters, options: AdamWOptions = {}) {
    super(params);
    [this.#beta1, this.#beta2] = options.betas ?? [0.9, 0.999];
    this.#eps = options.eps ?? 1e-8;
    this.#decay = options.weightDecay ?? 0.01;
    this.#exempt = options.decayExempt ?? noDecay;
  }

  protected slotNames(): readonly string[] {
    return ['m', 'v'];
  }

  protected update(params: readonly { name: string; w: Tensor; g: Tensor }[], lr: number, gradScale: number, momentum?: number): void {
    // PyTorch's bias correction uses the step's β₁ even when a schedule changes it: 1 − β₁(t)^t.
    const [beta1, beta2] = [momentum ?? this.#beta1, this.#beta2];
    adamwStep(
      params.map(({ name, w, g }) => ({ w, g, m: this.slot(name, 'm', w.size), v: this.slot(name, 'v', w.size), decay: !this.#exempt(name) })),
      { gradScale, lr, beta1, beta2, c1: 1 - beta1 ** this.step, c2: 1 - beta2 ** this.step, eps: this.#eps, shrink: 1 - lr * this.#decay },
    );
  }
}

export class SGD extends Optimizer {
  constructor(params: NamedParameters, readonly momentum = 0.9, readonly weightDecay = 0) {
    super(params);
  }

  protected slotNames(): readonly string[] {
    return this.momentum > 0 ? ['momentum'] : [];
  }

  /** A scheduled momentum applies only to an SGD built with momentum (one without keeps no buffer). */
  protected update(params: readonly { name: string; w: Tensor; g: Tensor }[], lr: number, gradScale: number, momentum?: number): void {
    sgdStep(
      params.map(({ name, w, g }) => ({ w, g, buf: this.momentum > 0 ? this.slot(name, 'momentum', w.size) : null })),
      { gradScale, lr, momentum: this.momentum > 0 ? (momentum ?? this.momentum) : 0, weightDecay: this.weightDecay },
    );
  }
}
