/**
 * LRA run folders on disk (Node only): what `nystromformer lra --out DIR` leaves behind, read back
 * into an LraClassifier.
 *
 *   DIR/config.json                      the model's LraConfig (defaults filled in) + model_type
 *   DIR/best/weights.safetensors         the best evaluation's weights (parameters and buffers)
 *   DIR/checkpoints/latest               names the newest checkpoint folder (train/checkpoint.ts),
 *   DIR/checkpoints/step-N/weights.safetensors   whose weights are used when there is no best/
 *
 * Not re-exported from models/index.ts, which the browser build reaches: it reads files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../io/atomic.js';
import { readSafetensorsSync } from '../../io/safetensors.js';
import { loadModuleTensors } from '../../nn/index.js';
import { MAX_LAYERS, MAX_SIZE } from '../nystromformer/config.js';
import { LraClassifier, parseAttention, type LraConfig } from './encoder.js';

/** config.json's marker for an LRA classifier (Hugging Face folders say 'nystromformer'). */
export const LRA_MODEL_TYPE = 'lra-classifier';

export const lraConfigPath = (dir: string): string => join(dir, 'config.json');

/** True when a parsed config.json describes an LRA classifier. */
export function isLraConfigJSON(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as Record<string, unknown>).model_type === LRA_MODEL_TYPE;
}

/** Writes DIR/config.json (atomically): the model's full config, so that loadLraRun can rebuild it. */
export function writeLraConfig(dir: string, model: LraClassifier): void {
  writeFileAtomicSync(lraConfigPath(dir), JSON.stringify({ model_type: LRA_MODEL_TYPE, ...model.config }, null, 2) + '\n');
}

/** Reads and checks DIR/config.json; errors name the file and the offending key. */
export function readLraConfig(dir: string): Required<LraConfig> {
  const path = lraConfigPath(dir);
  if (!existsSync(path)) throw new Error(`${path}: no such file (not an LRA run folder: \`nystromformer lra --out\` writes it)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read the LRA model config: ${(e as Error).message}`);
  }
  return lraConfigFromJSON(json, path);
}

/** A parsed config.json as a complete LraConfig, or an error naming `source` and the key. */
export function lraConfigFromJSON(json: unknown, source: string): Required<LraConfig> {
  if (!isLraConfigJSON(json)) {
    const type = typeof json === 'object' && json !== null ? JSON.stringify((json as Record<string, unknown>).model_type) : 'none (not an object)';
    throw new Error(`${source}: model_type must be '${LRA_MODEL_TYPE}', got ${type}`);
  }
  const c = json as Record<string, unknown>;
  const count = (key: string): number => {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${source}: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
    const max = key === 'layers' ? MAX_LAYERS : MAX_SIZE; // the bounds of a Nyströmformer config.json
    if (v > max) throw new Error(`${source}: ${key} must be at most ${max}, got ${v}`);
    return v;
  };
  const { attention, dropout, dual } = c;
  if (typeof attention !== 'string') throw new Error(`${source}: attention must be a string such as 'nystrom-64', got ${JSON.stringify(attention)}`);
  try {
    parseAttention(attention);
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new Error(`${source}: dropout must be a number in [0, 1), got ${JSON.stringify(dropout)}`);
  if (typeof dual !== 'boolean') throw new Error(`${source}: dual must be true or false, got ${JSON.stringify(dual)}`);
  const padTo = c.padTo === undefined || c.padTo === 0 ? 0 : count('padTo'); // absent in runs made before fixed-length padding
  return {
    vocabSize: count('vocabSize'), maxLength: count('maxLength'), classes: count('classes'), attention,
    dim: count('dim'), ffn: count('ffn'), layers: count('layers'), heads: count('heads'), dropout, dual, padTo,
  };
}

/** The weights file a run folder's model is loaded from: best/, else the newest checkpoint's. */
export function lraWeightsPath(dir: string): string {
  const best = join(dir, 'best', 'weights.safetensors');
  if (existsSync(best)) return best;
  const pointer = join(dir, 'checkpoints', 'latest');
  if (existsSync(pointer)) {
    const weights = join(dir, 'checkpoints', readFileSync(pointer, 'utf8').trim(), 'weights.safetensors');
    if (!existsSync(weights)) throw new Error(`${pointer} names a checkpoint without weights (${weights} is missing)`);
    return weights;
  }
  throw new Error(`${dir}: no weights (neither best/weights.safetensors nor a checkpoint named by checkpoints/latest)`);
}

/** The trained classifier of an LRA run folder, in evaluation mode. */
export function loadLraRun(dir: string): LraClassifier {
  const config = readLraConfig(dir);
  const weights = lraWeightsPath(dir);
  const model = new LraClassifier(config);
  try {
    loadModuleTensors(model, readSafetensorsSync(weights).tensors, weights);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model.eval();
}
