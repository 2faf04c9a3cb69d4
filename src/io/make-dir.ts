/** Creating folders: every folder the project writes into is made here. */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Creates `path` and any missing parents, one level at a time. Node 20's
 * `mkdirSync(p, { recursive: true })` spins forever on some uncreatable paths (under /proc, for
 * one); here each level is checked, so such a path fails at once with an error naming it.
 */
export function makeDir(path: string): void {
  const fail = (why: string): never => {
    throw new Error(`cannot create the folder ${path}: ${why}`);
  };
  const missing: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    const kind = kindOf(p, fail);
    if (kind === 'folder') break;
    if (kind === 'other') fail(`${p} exists and is not a folder`);
    missing.push(p);
    if (dirname(p) === p) break; // a missing root: mkdir below says why
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (e) {
      // another process may have made it meanwhile
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && kindOf(p, fail) === 'folder') continue;
      fail((e as Error).message);
    }
  }
}

function kindOf(path: string, fail: (why: string) => never): 'folder' | 'other' | 'none' {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'other';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent is a file, which the next level up reports
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'none';
    return fail((e as Error).message);
  }
}
