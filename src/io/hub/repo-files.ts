/**
 * Which files make a model, as transformers chooses them, and the shards a weight index names:
 * no Node built-ins, shared by the Node client (model-files.ts) and the browser's (web/hub.ts).
 */
import type { WeightsFormat } from '../weights.js';

/** Weight files by format, in transformers' order of preference: single file, else its index and shards. */
export const WEIGHT_FILES: Record<WeightsFormat, string[]> = {
  safetensors: ['model.safetensors', 'model.safetensors.index.json'],
  bin: ['pytorch_model.bin', 'pytorch_model.bin.index.json'],
};
export const WEIGHT_CANDIDATES = [...WEIGHT_FILES.safetensors, ...WEIGHT_FILES.bin];
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

/** The shard files a weight index (its JSON text) names, each once; `source` names the index in errors. */
export function shardFiles(text: string, source: string): string[] {
  let map: unknown;
  try {
    map = (JSON.parse(text) as { weight_map?: unknown }).weight_map;
  } catch (e) {
    throw new Error(`${source}: not a valid shard index: ${(e as Error).message}`);
  }
  if (!map || typeof map !== 'object') throw new Error(`${source}: not a valid shard index: it has no "weight_map" object`);
  const files = [...new Set(Object.values(map as Record<string, unknown>))];
  const bad = files.find((f) => typeof f !== 'string' || f.includes('/') || f.includes('\\') || f.startsWith('.'));
  if (bad !== undefined) throw new Error(`${source}: a weight maps to ${JSON.stringify(bad)}, not a file name in the repository`);
  return files as string[];
}
