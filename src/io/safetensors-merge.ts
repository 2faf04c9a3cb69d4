/**
 * Checkpoints as one safetensors file, for loaders that take one (the demo page's): the shards of a
 * sharded checkpoint, or a pytorch_model.bin's tensors. Floats become F32 and integers I32 or I64,
 * the dtypes the engine computes in anyway.
 */
import { parseSafetensors, serializeSafetensors, toFloat32, toInt32, type RawTensor, type TensorToWrite } from './safetensors-format.js';

/** Tensors of several sources (shards, or one file) as one safetensors file; a name in two sources is refused. */
export function tensorsToSafetensors(sources: { name: string; tensors: Map<string, RawTensor> }[]): Uint8Array {
  const tensors: Record<string, TensorToWrite> = {};
  for (const { name, tensors: source } of sources) {
    for (const [key, t] of source) {
      if (Object.hasOwn(tensors, key)) throw new Error(`${name}: tensor '${key}' is in another shard too`);
      const copy = t.data.slice(); // aligned, whatever its offset in the file
      tensors[key] = t.dtype === 'I64' ? { dtype: 'I64', shape: t.shape, data: new BigInt64Array(copy.buffer) }
        : ['I32', 'I16', 'I8', 'U8', 'BOOL'].includes(t.dtype) ? { dtype: 'I32', shape: t.shape, data: toInt32(t, key) }
        : { dtype: 'F32', shape: t.shape, data: toFloat32(t, key) };
    }
  }
  return serializeSafetensors(tensors);
}

export function mergeSafetensors(shards: { name: string; bytes: Uint8Array }[]): Uint8Array {
  return tensorsToSafetensors(shards.map(({ name, bytes }) => ({ name, tensors: parseSafetensors(bytes, name).tensors })));
}
