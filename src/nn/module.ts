/**
 * Modules: named trees of parameters, as in PyTorch. A module's parameter names joined with its
 * path ('encoder.layer.0.attention.self.query.weight') are exactly the keys of a Hugging Face
 * state dict, so loading and saving is a walk over `namedParameters()`.
 */
import { assign, fmt, parameter, Tensor } from '../engine/index.js';

export abstract class Module {
  /** Training mode turns dropout on. Modules start in evaluation mode. */
  training = false;
  readonly #parameters = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** Registers a trainable tensor under `name` (the last part of its state-dict key). */
  protected addParameter(name: string, t: Tensor): Tensor {
    this.#parameters.set(name, t.requiresGrad ? t : parameter(t));
    return t;
  }

  /**
   * Registers a fixed tensor under `name` (PyTorch's register_buffer): saved and loaded with the
   * parameters (moduleTensors), but never trained — not in `parameters()`, so no optimizer sees it.
   */
  protected addBuffer(name: string, t: Tensor): Tensor {
    if (t.requiresGrad) throw new Error(`${name}: a buffer is not trained, but this tensor requires a gradient`);
    this.#buffers.set(name, t);
    return t;
  }

  /** Unregisters a parameter (an 8-bit Linear layer drops its float32 weight); the caller disposes it. */
  protected removeParameter(name: string): void {
    this.#parameters.delete(name);
  }

  /** Registers a submodule under `name` (one part of its parameters' state-dict keys). */
  protected addModule<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  /**
   * Every parameter with its full dotted name, depth first in registration order. A tensor
   * shared by two modules (tied weights) appears under each name.
   */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, t] of this.#parameters) out.push([prefix + name, t]);
    for (const [name, child] of this.#children) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  /** Every buffer with its full dotted name, depth first in registration order. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, t] of this.#buffers) out.push([prefix + name, t]);
    for (const [name, child] of this.#children) out.push(...child.namedBuffers(`${prefix}${name}.`));
    return out;
  }

  /** Every submodule with its dotted name ('encoder.layer.0.attention.self.query'), depth first. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [name, child] of this.#children) out.push([prefix + name, child], ...child.namedModules(`${prefix}${name}.`));
    return out;
  }

  /** The distinct trainable tensors (tied weights once), for optimizers. */
  parameters(): Tensor[] {
    return [...new Set(this.namedParameters().map(([, t]) => t))];
  }

  /** Switches training mode (dropout) on or off, for this module and every submodule. */
  train(on = true): this {
    this.training = on;
    for (const child of this.#children.values()) child.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Frees every parameter and buffer (the module is unusable afterwards). */
  dispose(): void {
    for (const t of this.parameters()) t.dispose();
    for (const [, t] of this.namedBuffers()) t.dispose();
  }
}

/** Overwrites a parameter's values in place (its identity, and any tying, are kept). */
export function assignParameter(name: string, target: Tensor, values: Float32Array, shape: readonly number[]): void {
  if (shape.length !== target.rank || shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(`${name}: the checkpoint holds shape ${fmt(shape)} but the model expects ${fmt(target.shape)}`);
  }
  assign(target, values);
}

/** A list of modules named 0, 1, 2, … (PyTorch's ModuleList). */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];

  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.addModule(String(i), m));
  }
}
