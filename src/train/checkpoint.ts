/**
 * Training checkpoints: everything a run needs to continue exactly — model weights, optimizer
 * state, the trainer's position (step, epoch, batch) and the seed stream — in one folder per step:
 *
 *   <out>/checkpoints/step-<N>/{weights.safetensors, optimizer.safetensors, trainer.json}
 *   <out>/checkpoints/latest      the name of the newest complete folder
 *
 * A folder is written under a temporary name and renamed when complete, and `latest` is replaced
 * atomically after that, so a kill at any moment leaves the previous checkpoint intact.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';
import { makeDir } from '../io/make-dir.js';
import { readSafetensorsSync, toFloat32, writeSafetensorsSync, type SafetensorsFile, type TensorToWrite } from '../io/safetensors.js';
import { sweepDeadTemps, tempPathFor } from '../io/temp-files.js';
import { checkModuleTensors, loadModuleTensors, moduleTensors, type Module } from '../nn/index.js';
import type { Optimizer, OptimizerState } from './optimizers.js';

export interface TrainerState {
  /** Optimizer steps taken. */
  step: number;
  epoch: number;
  /** The next batch of the epoch's order. */
  batch: number;
  /** The nn seed stream (dropout) at this point. */
  seedState: number;
  /** Best evaluation metric so far and its step. */
  best?: { metric: string; value: number; step: number };
  /** Evaluations since the best one (early stopping). */
  stale?: number;
}

const KEEP = 2;
const [WEIGHTS, OPTIMIZER, TRAINER] = ['weights.safetensors', 'optimizer.safetensors', 'trainer.json'];

export async function saveCheckpoint(out: string, model: Module, optimizer: Optimizer, state: TrainerState): Promise<string> {
  const root = join(out, 'checkpoints');
  makeDir(root);
  const name = `step-${state.step}`;
  // Half-written folders of killed runs are never read; clear them away (a live writer's stay).
  sweepDeadTemps(root);
  const final = join(root, name);
  const tmp = tempPathFor(final);
  mkdirSync(tmp);
  try {
    writeSafetensorsSync(join(tmp, WEIGHTS), await moduleTensors(model));
    const { step, slots } = await optimizer.state();
    const tensors: Record<string, TensorToWrite> = {};
    for (const [param, s] of Object.entries(slots)) for (const [slot, data] of Object.entries(s)) tensors[`${param}::${slot}`] = { dtype: 'F32', shape: [data.length], data };
    writeSafetensorsSync(join(tmp, OPTIMIZER), tensors, { step: String(step) });
    writeFileAtomicSync(join(tmp, TRAINER), JSON.stringify(state, null, 2) + '\n');
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  writeFileAtomicSync(join(root, 'latest'), name + '\n');
  // Older checkpoints go only after the new one is complete and named.
  const steps = readdirSync(root).filter((d) => /^step-\d+$/.test(d)).sort((a, b) => Number(b.slice(5)) - Number(a.slice(5)));
  for (const old of steps.slice(KEEP)) if (old !== name) rmSync(join(root, old), { recursive: true, force: true });
  return final;
}

/** The newest complete checkpoint folder of a run, or null when it has none. */
export function latestCheckpoint(out: string): string | null {
  const pointer = join(out, 'checkpoints', 'latest');
  if (!existsSync(pointer)) return null;
  const dir = join(out, 'checkpoints', readFileSync(pointer, 'utf8').trim());
  if (!existsSync(join(dir, TRAINER))) throw new Error(`${pointer} names ${dir}, which is not a complete checkpoint`);
  return dir;
}

/**
 * Restores the model's weights and the optimizer from a checkpoint folder and returns the trainer's
 * state. Every file is read and checked first (names, shapes, dtypes, required fields), so a
 * damaged checkpoint is refused, naming the file, before anything of the model or optimizer changes.
 */
export function loadTrainingState(dir: string, model: Module, optimizer: Optimizer): TrainerState {
  const weightsPath = join(dir, WEIGHTS);
  const weights = readFloat32Tensors(weightsPath).tensors;
  checkModuleTensors(model, weights, weightsPath);
  const optimizerState = readOptimizerState(join(dir, OPTIMIZER), optimizer);
  const state = readTrainerState(join(dir, TRAINER));
  loadModuleTensors(model, weights, weightsPath);
  optimizer.loadState(optimizerState);
  return state;
}

/** A safetensors file of a checkpoint: every tensor float32, as saveCheckpoint writes them. */
function readFloat32Tensors(path: string): SafetensorsFile {
  const file = readSafetensorsSync(path);
  for (const [name, t] of file.tensors) if (t.dtype !== 'F32') throw new Error(`${path}: tensor '${name}' is ${t.dtype}; a checkpoint holds F32 only`);
  return file;
}

function readOptimizerState(path: string, optimizer: Optimizer): OptimizerState {
  const file = readFloat32Tensors(path);
  const step = Number(file.metadata.step);
  if (!/^\d+$/.test(file.metadata.step ?? '') || !Number.isSafeInteger(step)) {
    throw new Error(`${path}: metadata 'step' must be a whole number of optimizer steps, got ${JSON.stringify(file.metadata.step)}`);
  }
  const slots: OptimizerState['slots'] = {};
  for (const [key, raw] of file.tensors) {
    const [param, slot, extra] = key.split('::');
    if (!slot || extra !== undefined) throw new Error(`${path}: tensor '${key}' is not named <parameter>::<slot>`);
    (slots[param] ??= {})[slot] = toFloat32(raw, key);
  }
  const state = { step, slots };
  optimizer.checkState(state, path);
  return state;
}

/** trainer.json: parseable, with step, epoch, batch and seedState whole numbers. */
function readTrainerState(path: string): TrainerState {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read the trainer state: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${path}: the trainer state must be a JSON object`);
  const state = json as Record<string, unknown>;
  for (const key of ['step', 'epoch', 'batch', 'seedState']) {
    const v = state[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${path}: '${key}' must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  const best = state.best as TrainerState['best'];
  if (best !== undefined && (typeof best !== 'object' || best === null || !Number.isSafeInteger(best.step))) {
    throw new Error(`${path}: 'best' must be { metric, value, step }, got ${JSON.stringify(best)}`);
  }
  if (state.stale !== undefined && !Number.isSafeInteger(state.stale)) throw new Error(`${path}: 'stale' must be an integer, got ${JSON.stringify(state.stale)}`);
  return state as unknown as TrainerState;
}
