/** Small helpers several test files share. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The largest |got − want| over two arrays of one length; a NaN on either side counts as Infinity. */
export function maxAbsError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Number.isNaN(got[i] - want[i]) ? Infinity : Math.abs(got[i] - want[i]));
  return worst;
}

/** A test body run in a fresh temporary folder, removed afterwards whatever happens. */
export function withTempDir(prefix: string, fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
