/**
 * Temporary files and folders written beside their final path and renamed over it (atomic.ts,
 * checkpoints). Their names carry the writer's process id, so that the leftovers of a killed
 * writer can be told from the work in progress of a live one and swept away.
 */
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** `.<name>.<pid>.<random>.tmp` in the folder of `path`. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
}

// The pid is the first all-digit part that leaves at most one part before `.tmp` (older checkpoint
// folders were `.step-N.<pid>.tmp`, without the random part).
const TEMP_NAME = /^\..+?\.(\d+)(?:\.[0-9a-z]*)?\.tmp$/;

/** The writer's pid of a temp name, or null for any other name. */
export function tempOwner(name: string): number | null {
  const m = TEMP_NAME.exec(name);
  return m ? Number(m[1]) : null;
}

/** Whether a process with this id exists (signal 0 only asks; EPERM means it exists but is not ours). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return true; // not a process id we can judge: keep its files
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes the temp files and folders in `dir` whose writer is dead; returns their paths. A live writer's are never touched. */
export function sweepDeadTemps(dir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const pid = tempOwner(name);
    if (pid === null || processAlive(pid)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed;
}
