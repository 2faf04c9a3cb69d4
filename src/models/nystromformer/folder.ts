/**
 * Hugging Face model folders on disk (Node only): config.json and the weights. pretrained.ts
 * imports this module lazily, so that the model classes also load in browsers, where a model is
 * built from a fetched config and `loadWeights` on parsed safetensors bytes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../io/atomic.js';
import { assertFolder } from '../../io/folder-check.js';
import { makeDir } from '../../io/make-dir.js';
import { resolveModelDir, type ResolveModelOptions } from '../../io/hub/model-files.js';
import { writeSafetensorsSync, type TensorToWrite } from '../../io/safetensors.js';
import { readWeights, type CheckpointWeights, type WeightsFormat } from '../../io/weights.js';

/** `idOrDir` itself when it exists, else the cached snapshot of the Hub repository it names. */
export function resolveFolder(idOrDir: string, options: ResolveModelOptions): Promise<string> {
  return resolveModelDir(idOrDir, options);
}

export const configPath = (dir: string): string => join(dir, 'config.json');

/** A model folder's config.json, parsed but not yet checked. */
export async function readConfigJSON(dir: string): Promise<Record<string, unknown>> {
  const path = configPath(dir);
  await assertFolder(dir);
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read the model config: ${(e as Error).message}`);
  }
}

export function readFolderWeights(dir: string, format?: WeightsFormat): Promise<CheckpointWeights> {
  return readWeights(dir, format);
}

/** Writes config.json and model.safetensors (tied weights stored once, under their first name, as HF does). */
export function writeModelFolder(dir: string, tensors: Record<string, TensorToWrite>, config: object): void {
  makeDir(dir);
  writeSafetensorsSync(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileAtomicSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
}
