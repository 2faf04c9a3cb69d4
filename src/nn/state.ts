/** A module's parameters as safetensors tensors, and back: for checkpoints of any model. */
import type { Tensor } from '../engine/index.js';
import { toFiniteFloat32, type RawTensor, type TensorToWrite } from '../io/safetensors-format.js';
import { assignParameter, type Module } from './module.js';

/** Parameters, then buffers (fixed tensors such as Performer's random features): everything a checkpoint holds. */
const stateOf = (module: Module): [string, Tensor][] => [...module.namedParameters(), ...module.namedBuffers()];

/** Every distinct parameter and buffer under its first name (tied tensors once), as float32. */
export function moduleTensors(module: Module): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  const seen = new Set<Tensor>();
  for (const [name, t] of stateOf(module)) {
    if (seen.has(t)) continue;
    seen.add(t);
    out[name] = { dtype: 'F32', shape: [...t.shape], data: t.toArray() as Float32Array };
  }
  return out;
}

/** Loads what moduleTensors wrote; every parameter and buffer must be there with its shape. */
export function loadModuleTensors(module: Module, tensors: Map<string, RawTensor>, source: string): void {
  const seen = new Set<Tensor>();
  for (const [name, t] of stateOf(module)) {
    if (seen.has(t)) continue;
    seen.add(t);
    const raw = tensors.get(name);
    if (!raw) throw new Error(`${source}: no tensor '${name}' for this model`);
    assignParameter(`${source}: ${name}`, t, toFiniteFloat32(raw, name, source), raw.shape);
  }
}
