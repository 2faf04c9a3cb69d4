/**
 * Optimizers over named parameters: AdamW (decoupled weight decay, none on biases and LayerNorm by
 * default) and SGD with momentum. Their state lives in plain Float32Arrays, so a checkpoint can
 * save it as it is; parameters are read and written through the backend, in place.
 */
import { assign, Tensor } from '../engine/index.js';

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
  protected readonly slots = new Map<string, Record<string, Float32Array>>();

  constructor(params: NamedParameters) {
    // Tied weights are one tensor under two names: update it once, under its first name.
    const byTensor = new Map<Tensor, string>();
    for (const [name, t] of params) if (!byTensor.has(t)) byTensor.set(t, name);
    this.params = [...byTensor].map(([t, name]) => [name, t]);
  }

  /** One update with learning rate lr; gradients are multiplied by gradScale (clipping, accumulation). */
  apply(lr: number, gradScale = 1): void {
    this.step++;
    for (const [name, p] of this.params) {
      if (!p.grad) continue;
      const w = p.toArray() as Float32Array;
      const g = p.grad.toArray() as Float32Array;
      this.update(name, w, g, lr, gradScale);
      assign(p, w);
    }
  }

  protected abstract update(name: string, w: Float32Array, g: Float32Array, lr: number, gradScale: number): void;

  protected slot(name: string, key: string, size: number): Float32Array {
    let s = this.slots.get(name);
    if (!s) this.slots.set(name, (s = {}));
    return (s[key] ??= new Float32Array(size));
  }

  /** The global L2 norm of the gradients, and the factor that clips it to maxNorm (1 when below or maxNorm ≤ 0). */
  clip(maxNorm: number): { norm: number; scale: number } {
    let sq = 0;
    for (const [, p] of this.params) {
      const g = p.grad?.toArray() ?? [];
      for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
    }
    const norm = Math.sqrt(sq);
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
  state(): OptimizerState {
    if (this.step > 0) for (const [name, p] of this.params) for (const key of this.slotNames()) this.slot(name, key, p.size);
    return { step: this.step, slots: Object.fromEntries(this.slots) };
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
    this.step = state.step;
    this.slots.clear();
    for (const [name, s] of Object.entries(state.slots)) this.slots.set(name, { ...s });
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

  protected update(name: string, w: Float32Array, g: Float32Array, lr: number, gradScale: number): void {
    const m = this.slot(name, 'm', w.length);
    const v = this.slot(name, 'v', w.length);
    const b1 = this.#beta1;
    const b2 = this.#beta2;
    const c1 = 1 - b1 ** this.step;
    const c2 = 1 - b2 ** this.step;
    const shrink = this.#exempt(name) ? 1 : 1 - lr * this.#decay;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] * gradScale;
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      w[i] = w[i] * shrink - (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + this.#eps);
    }
  }
}

export class SGD extends Optimizer {
  constructor(params: NamedParameters, readonly momentum = 0.9, readonly weightDecay = 0) {
    super(params);
  }

  protected slotNames(): readonly string[] {
    return this.momentum > 0 ? ['momentum'] : [];
  }

  protected update(name: string, w: Float32Array, g: Float32Array, lr: number, gradScale: number): void {
    const buf = this.momentum > 0 ? this.slot(name, 'momentum', w.length) : null;
    for (let i = 0; i < w.length; i++) {
      let d = g[i] * gradScale + this.weightDecay * w[i];
      if (buf) d = buf[i] = this.momentum * buf[i] + d;
      w[i] -= lr * d;
    }
  }
}
