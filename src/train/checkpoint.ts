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
import { readSafetensorsSync, toFloat32, writeSafetensorsSync, type TensorToWrite } from '../io/safetensors.js';
import { loadModuleTensors, moduleTensors, type Module } from '../nn/index.js';
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

export async function saveCheckpoint(out: string, model: Module, optimizer: Optimizer, state: TrainerState): Promise<string> {
  const root = join(out, 'checkpoints');
  makeDir(root);
  const name = `step-${state.step}`;
  // Half-written folders of killed runs are never read; clear them away.
  for (const d of readdirSync(root)) if (/^\.step-\d+\.\d+\.tmp$/.test(d)) rmSync(join(root, d), { recursive: true, force: true });
  const tmp = join(root, `.${name}.${process.pid}.tmp`);
  mkdirSync(tmp);
  writeSafetensorsSync(join(tmp, 'weights.safetensors'), moduleTensors(model));
  const { step, slots } = optimizer.state();
  const tensors: Record<string, TensorToWrite> = {};
  for (const [param, s] of Object.entries(slots)) for (const [slot, data] of Object.entries(s)) tensors[`${param}::${slot}`] = { dtype: 'F32', shape: [data.length], data };
  writeSafetensorsSync(join(tmp, 'optimizer.safetensors'), tensors, { step: String(step) });
  writeFileAtomicSync(join(tmp, 'trainer.json'), JSON.stringify(state, null, 2) + '\n');
  const final = join(root, name);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
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
  if (!existsSync(join(dir, 'trainer.json'))) throw new Error(`${pointer} names ${dir}, which is not a complete checkpoint`);
  return dir;
}

/** Restores the model's weights and the optimizer from a checkpoint folder and returns the trainer's state. */
export function loadTrainingState(dir: string, model: Module, optimizer: Optimizer): TrainerState {
  const weights = join(dir, 'weights.safetensors');
  loadModuleTensors(model, readSafetensorsSync(weights).tensors, weights);
  const file = readSafetensorsSync(join(dir, 'optimizer.safetensors'));
  const slots: OptimizerState['slots'] = {};
  for (const [key, raw] of file.tensors) {
    const [param, slot] = key.split('::');
    (slots[param] ??= {})[slot] = toFloat32(raw, key).slice();
  }
  optimizer.loadState({ step: Number(file.metadata.step), slots });
  return JSON.parse(readFileSync(join(dir, 'trainer.json'), 'utf8')) as TrainerState;
}
