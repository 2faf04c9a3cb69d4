/** What the cache holds, for `nystromformer cache ls`: repositories, their refs and snapshots, sizes on disk. */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { repoIdOfFolder, type RepoType } from './cache-layout.js';
import { hubCacheDir } from './settings.js';

export interface CachedRepo {
  repo: string;
  /** A model's repository, or a dataset's (its parquet splits, for hf: data). */
  type: RepoType;
  path: string;
  /** Branch or tag → commit, from refs/. */
  refs: Record<string, string>;
  /** Commits with a snapshot folder. */
  snapshots: string[];
  /** Bytes of the blobs (each counted once, however many snapshots use it). */
  size: number;
  /** Files across snapshots. */
  files: number;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Every model and dataset repository in the cache (default: the cache huggingface_hub uses). */
export function listCache(cacheDir = hubCacheDir()): CachedRepo[] {
  if (!existsSync(cacheDir)) return [];
  const repos: CachedRepo[] = [];
  for (const name of readdirSync(cacheDir).sort()) {
    const type: RepoType = name.startsWith('datasets--') ? 'dataset' : 'model';
    const repo = repoIdOfFolder(name, type);
    const path = join(cacheDir, name);
    if (!repo || !statSync(path).isDirectory()) continue;
    const refsDir = join(path, 'refs');
    const refs = Object.fromEntries(walk(refsDir).map((f) => [relative(refsDir, f).split(sep).join('/'), readFileSync(f, 'utf8').trim()]));
    const snapshotsDir = join(path, 'snapshots');
    const snapshots = existsSync(snapshotsDir) ? readdirSync(snapshotsDir).sort() : [];
    const blobs = walk(join(path, 'blobs')).filter((f) => !/\.(incomplete|lock)$/.test(f));
    // Snapshots that hold copies (no symlinks) count too.
    const copies = walk(snapshotsDir).filter((f) => !lstatSync(f).isSymbolicLink());
    const size = [...blobs, ...copies].reduce((s, f) => s + statSync(f).size, 0);
    repos.push({ repo, type, path, refs, snapshots, size, files: walk(snapshotsDir).length });
  }
  return repos;
}
