/** Small helpers several test files share. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

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

/** Every file under dir (path relative to dir → bytes): to show that a command left a folder as it was. */
export function snapshotFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** Runs `node ARGS --port 0` (a `nystromformer serve`), hands its URL to `use`, then stops it whatever happens. */
export async function withServe(args: string[], cwd: string, use: (url: string) => Promise<void>): Promise<void> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [...args, '--port', '0'], { cwd });
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /http:\/\/\S+\//.exec(out);
        if (m) ok(m[0]);
      });
      child.on('exit', (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
    });
    await use(url);
  } finally {
    child.kill();
  }
}
