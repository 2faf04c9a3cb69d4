/**
 * Opening a run folder (`train --out`, `lra --out`) before any work: a folder that already holds a
 * run is refused unless the run is to be continued (--resume) or replaced (--overwrite), and the
 * temp files of writers that were killed are swept away.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeDir } from '../io/make-dir.js';
import { sweepDeadTemps } from '../io/temp-files.js';

/** What a run writes into its folder; --overwrite removes exactly these (options.json and config.json are rewritten by the next run). */
export const RUN_FILES = ['train.jsonl', 'checkpoints/', 'best/', 'metrics.json', 'result.json'] as const;

export interface OpenRunOptions {
  /** Continue the run in the folder from its latest checkpoint. */
  resume?: boolean;
  /** Remove the run in the folder first. */
  overwrite?: boolean;
  /** The command, for error messages (default 'train'). */
  command?: string;
}

/** Makes `out` ready for a fresh run, or checks it has a checkpoint to resume. Calling it again changes nothing. */
export function openRunFolder(out: string, o: OpenRunOptions = {}): void {
  const command = o.command ?? 'train';
  if (o.resume && o.overwrite) throw new Error(`${command}: --resume continues the run in ${out} and --overwrite replaces it; give one of them`);
  if (o.resume && !existsSync(join(out, 'checkpoints', 'latest'))) throw new Error(`${command}: --resume, but ${out} has no checkpoint`);
  makeDir(out);
  for (const dir of [out, join(out, 'checkpoints'), join(out, 'best')]) if (existsSync(dir)) sweepDeadTemps(dir);
  if (o.resume) return;
  const held = RUN_FILES.filter((f) => existsSync(join(out, f)));
  if (held.length === 0) return;
  if (!o.overwrite) {
    throw new Error(`${command}: ${out} already holds a run (${held.join(', ')}); pass --resume to continue it, --overwrite to replace it, or choose another --out`);
  }
  for (const f of held) rmSync(join(out, f), { recursive: true, force: true });
}
