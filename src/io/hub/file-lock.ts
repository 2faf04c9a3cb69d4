/**
 * A lock file beside a blob, so that two processes (or two calls in one) fetching the same file do
 * not write it at once: created with 'wx' (fails if it exists), holding the owner's pid, so that a
 * lock left by a process that died is recognised and removed.
 */
import { openSync, closeSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

const POLL_MS = 50;

function ownerAlive(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8').trim());
  } catch {
    return true; // vanished or unreadable: released, or being written; look again
  }
  if (!Number.isInteger(pid) || pid <= 0) return true; // being written: the pid follows
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

/** Waits for the lock at `path` (up to `timeoutMs`) and returns its release. */
export async function acquireLock(path: string, timeoutMs: number, what: string): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // removed already (e.g. by hand)
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (!ownerAlive(path)) {
      try {
        unlinkSync(path);
      } catch {
        // another waiter removed it first
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${what}: waited ${Math.round(timeoutMs / 1000)} s for ${path}, held by another download; remove it if no download is running`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
