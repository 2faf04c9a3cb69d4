/**
 * The shards of a sharded checkpoint as one safetensors file, for loaders that take one (the demo
 * page's): floats become F32 and integers I32 or I64, the dtypes the engine computes in anyway.
 */
import { parseSafetensors, serializeSafetensors, toFloat32, toInt32, type TensorToWrite } from './safetensors-format.js';

export function mergeSafetensors(shards: { name: string; bytes: Uint8Array }[]): Uint8Array {
  const tensors: Record<string, TensorToWrite> = {};
  for (const { name, bytes } of shards) {
    for (const [key, t] of parseSafetensors(bytes, name).tensors) {
      if (key in tensors) throw new Error(`${name}: tensor '${key}' is in another shard too`);
      const copy = t.data.slice(); // aligned, whatever its offset in the shard
      tensors[key] = t.dtype === 'I64' ? { dtype: 'I64', shape: t.shape, data: new BigInt64Array(copy.buffer) }
        : ['I32', 'I16', 'I8', 'U8', 'BOOL'].includes(t.dtype) ? { dtype: 'I32', shape: t.shape, data: toInt32(t, key) }
        : { dtype: 'F32', shape: t.shape, data: toFloat32(t, key) };
    }
  }
  return serializeSafetensors(tensors);
}
