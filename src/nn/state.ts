/** A module's parameters as safetensors tensors, and back: for checkpoints of any model. */
import { fmt, type Tensor } from '../engine/index.js';
import { toFiniteFloat32, type RawTensor, type TensorToWrite } from '../io/safetensors-format.js';
import { assignParameter, type Module } from './module.js';
import { q8Tensors } from './quantize.js';

/** Parameters, then buffers (fixed tensors such as Performer's random features): everything a checkpoint holds. */
const stateOf = (module: Module): [string, Tensor][] => [...module.namedParameters(), ...module.namedBuffers()];

/** Every distinct parameter and buffer (tied tensors once, under their first name). */
function distinctState(module: Module): [string, Tensor][] {
  const seen = new Set<Tensor>();
  return stateOf(module).filter(([, t]) => !seen.has(t) && seen.add(t));
}

/**
 * Every distinct parameter and buffer under its first name (tied tensors once), as float32, and
 * the codes and scales of 8-bit layers (quantize.ts), read from any backend.
 */
export async function moduleTensors(module: Module): Promise<Record<string, TensorToWrite>> {
  const out: Record<string, TensorToWrite> = await q8Tensors(module);
  for (const [name, t] of distinctState(module)) out[name] = { dtype: 'F32', shape: [...t.shape], data: (await t.read()) as Float32Array };
  return out;
}

/** Checks that `tensors` holds every parameter and buffer of `module` with its shape; errors name `source` and the tensor. */
export function checkModuleTensors(module: Module, tensors: Map<string, RawTensor>, source: string): void {
  for (const [name, t] of distinctState(module)) {
    const raw = tensors.get(name);
    if (!raw) throw new Error(`${source}: no tensor '${name}' for this model`);
    if (raw.shape.length !== t.rank || raw.shape.some((d, i) => d !== t.shape[i])) {
      throw new Error(`${source}: ${name}: the checkpoint holds shape ${fmt(raw.shape)} but the model expects ${fmt(t.shape)}`);
    }
  }
}

/** Loads what moduleTensors wrote; all of it is checked first, so a bad file changes nothing of the module. */
export function loadModuleTensors(module: Module, tensors: Map<string, RawTensor>, source: string): void {
  checkModuleTensors(module, tensors, source);
  // converted before any is written: a value the conversion refuses also leaves the module as it was
  const values = distinctState(module).map(([name, t]) => [name, t, toFiniteFloat32(tensors.get(name)!, name, source)] as const);
  for (const [name, t, v] of values) assignParameter(`${source}: ${name}`, t, v, t.shape);
}
