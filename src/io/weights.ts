/**
 * The weights of a Hugging Face model folder, in whichever form it has them:
 * `model.safetensors`, sharded `model.safetensors.index.json`, `pytorch_model.bin` (read without
 * executing anything, see pytorch.ts) or sharded `pytorch_model.bin.index.json`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lookup } from './lookup.js';
import { readTorchCheckpoint } from './pytorch.js';
import { readSafetensors, type RawTensor } from './safetensors.js';

export type WeightsFormat = 'safetensors' | 'bin';

/** The files each format may come as, single file first. */
const FILES: Record<WeightsFormat, { single: string; index: string }> = {
  safetensors: { single: 'model.safetensors', index: 'model.safetensors.index.json' },
  bin: { single: 'pytorch_model.bin', index: 'pytorch_model.bin.index.json' },
};

/** Which weight formats a folder holds (safetensors first, as Hugging Face prefers it). */
export function weightFormatsIn(dir: string): WeightsFormat[] {
  return (Object.keys(FILES) as WeightsFormat[]).filter((f) => existsSync(join(dir, FILES[f].single)) || existsSync(join(dir, FILES[f].index)));
}

export interface CheckpointWeights {
  tensors: Map<string, RawTensor>;
  /** The files read, for messages. */
  files: string[];
}

/** Reads every tensor of a model folder; `format` picks one when the folder has both. */
export async function readWeights(dir: string, format?: WeightsFormat): Promise<CheckpointWeights> {
  if (format !== undefined) lookup(FILES, format, 'weights format');
  const available = weightFormatsIn(dir);
  const chosen = format ?? available[0];
  if (!chosen || !available.includes(chosen)) {
    const wanted = format ? `${FILES[format].single} or ${FILES[format].index}` : Object.values(FILES).flatMap((f) => [f.single, f.index]).join(', ');
    throw new Error(`${dir}: no model weights found (looked for ${wanted})`);
  }
  const { single, index } = FILES[chosen];
  const read = chosen === 'safetensors'
    ? async (path: string) => (await readSafetensors(path)).tensors
    : readTorchCheckpoint;
  if (existsSync(join(dir, single))) {
    const path = join(dir, single);
    return { tensors: await read(path), files: [path] };
  }
  return readSharded(dir, join(dir, index), read);
}

async function readSharded(dir: string, indexPath: string, read: (path: string) => Promise<Map<string, RawTensor>>): Promise<CheckpointWeights> {
  let weightMap: Record<string, unknown>;
  try {
    const parsed = JSON.parse(await readFile(indexPath, 'utf8')) as { weight_map?: unknown };
    if (!parsed.weight_map || typeof parsed.weight_map !== 'object') throw new Error('it has no "weight_map" object');
    weightMap = parsed.weight_map as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${indexPath}: not a valid shard index: ${(e as Error).message}`);
  }
  const shards = new Map<string, string[]>();
  for (const [name, file] of Object.entries(weightMap)) {
    if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) {
      throw new Error(`${indexPath}: weight '${name}' maps to ${JSON.stringify(file)}, not a file name in the folder`);
    }
    shards.set(file, [...(shards.get(file) ?? []), name]);
  }
  const tensors = new Map<string, RawTensor>();
  const files: string[] = [];
  for (const [file, names] of shards) {
    const path = join(dir, file);
    const shard = await read(path);
    for (const name of names) {
      const t = shard.get(name);
      if (!t) throw new Error(`${indexPath}: '${name}' should be in ${file}, which does not hold it`);
      tensors.set(name, t);
    }
    files.push(path);
  }
  return { tensors, files };
}
