/**
 * 8-bit models (docs/quantization.md): every Linear layer's weight as int8 codes with one scale
 * per output channel; what a q8 checkpoint holds and how it loads back.
 *
 * In a checkpoint an 8-bit layer `X` keeps its float32 key for the codes, `X.weight` (I8 [out, in]),
 * beside `X.weight_scale` (F32 [out]): the dtype and the companion say which layers are 8-bit.
 */
import { quantizeWeights, readQ8Weights } from '../engine/index.js';
import { toFiniteFloat32, type RawTensor, type TensorToWrite } from '../io/safetensors-format.js';
import { Linear } from './layers.js';
import type { Module } from './module.js';

/** How a model's Linear weights are stored: float32, or 8-bit. */
export type WeightDType = 'fp32' | 'q8';
export const WEIGHT_DTYPES: readonly WeightDType[] = ['fp32', 'q8'];

export const SCALE_SUFFIX = '_scale';

export function checkWeightDType(dtype: unknown): asserts dtype is WeightDType | undefined {
  if (dtype !== undefined && !WEIGHT_DTYPES.includes(dtype as WeightDType)) {
    throw new Error(`dtype must be one of ${WEIGHT_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
  }
}

/** The Linear layers of `module` by name, but not one whose weight is tied to another tensor name (it stays float32). */
function linearLayers(module: Module): [string, Linear][] {
  const uses = new Map<unknown, number>();
  for (const [, t] of module.namedParameters()) uses.set(t, (uses.get(t) ?? 0) + 1);
  return module.namedModules().filter((e): e is [string, Linear] =>
    e[1] instanceof Linear && (e[1].q8 !== null || uses.get(e[1].weight) === 1));
}

/**
 * Makes every Linear layer of `module` 8-bit, in place (inference only): symmetric int8 codes,
 * one scale per output channel. The model is frozen: its remaining float32 parameters stop
 * requiring gradients, so that forward runs with or without noGrad. Returns the names of the
 * layers it quantized.
 */
export async function quantize(module: Module, dtype: WeightDType = 'q8'): Promise<string[]> {
  checkWeightDType(dtype);
  if (dtype === 'fp32') return [];
  const done: string[] = [];
  for (const [name, layer] of linearLayers(module)) {
    if (layer.q8) continue;
    const { codes, scale } = quantizeWeights((await layer.weight.read()) as Float32Array, layer.outFeatures, layer.inFeatures);
    layer.useQ8(codes, scale);
    done.push(name);
  }
  freeze(module);
  return done;
}

/** An 8-bit model has no gradient path: no parameter of it asks for one. */
function freeze(module: Module): void {
  for (const t of module.parameters()) t.requiresGrad = false;
}

/** Whether any layer of `module` is 8-bit. */
export function weightDType(module: Module): WeightDType {
  return module.namedModules().some(([, m]) => m instanceof Linear && m.q8 !== null) ? 'q8' : 'fp32';
}

/** The 8-bit layers' checkpoint tensors: codes under `X.weight`, scales under `X.weight_scale`. */
export async function q8Tensors(module: Module): Promise<Record<string, TensorToWrite>> {
  const out: Record<string, TensorToWrite> = {};
  for (const [name, layer] of linearLayers(module)) {
    if (!layer.q8) continue;
    const { codes, scale } = await readQ8Weights(layer.q8);
    out[`${name}.weight`] = { dtype: 'I8', shape: [layer.outFeatures, layer.inFeatures], data: codes };
    out[`${name}.weight${SCALE_SUFFIX}`] = { dtype: 'F32', shape: [layer.outFeatures], data: scale };
  }
  return out;
}

/**
 * Loads the 8-bit layers a checkpoint holds (I8 `X.weight` with `X.weight_scale`) into the Linear
 * layers of those names, which become 8-bit. Returns the keys it used. All are checked first, so a
 * bad file changes nothing.
 */
export function loadQ8Tensors(module: Module, tensors: Map<string, RawTensor>, source: string): string[] {
  const plan: [Linear, Int8Array, Float32Array][] = [];
  const used: string[] = [];
  const layers = new Map(module.namedModules());
  for (const [key, raw] of tensors) {
    if (raw.dtype !== 'I8') continue;
    const layer = key.endsWith('.weight') ? layers.get(key.slice(0, -'.weight'.length)) : undefined;
    if (!(layer instanceof Linear)) throw new Error(`${source}: '${key}' holds int8 codes, but this model has no Linear layer of that name`);
    const scaleKey = key + SCALE_SUFFIX;
    const scale = tensors.get(scaleKey);
    const [n, k] = [layer.outFeatures, layer.inFeatures];
    if (!scale) throw new Error(`${source}: '${key}' holds int8 codes without their scales '${scaleKey}'`);
    if (raw.shape.length !== 2 || raw.shape[0] !== n || raw.shape[1] !== k || scale.shape.length !== 1 || scale.shape[0] !== n) {
      throw new Error(`${source}: '${key}' [${raw.shape}] and '${scaleKey}' [${scale.shape}] do not fit the layer's [${n}, ${k}] and [${n}]`);
    }
    const codes = new Int8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength).slice();
    plan.push([layer, codes, toFiniteFloat32(scale, scaleKey, source)]);
    used.push(key, scaleKey);
  }
  for (const [layer, codes, scale] of plan) layer.useQ8(codes, scale);
  if (plan.length > 0) freeze(module);
  return used;
}
