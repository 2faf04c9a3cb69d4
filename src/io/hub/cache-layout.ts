/**
 * huggingface_hub's cache layout, so that Python and this library share downloads:
 *
 *     {cache}/models--{owner}--{name}/   (datasets--{owner}--{name}/ for datasets)
 *       blobs/{etag}                      the bytes, once per content
 *       snapshots/{commit}/{file}         relative symlinks to ../../blobs/{etag} (copies where links fail)
 *       refs/{revision}                   the commit a branch or tag pointed at (no newline)
 *       .no_exist/{commit}/{file}         empty: the file is known to be absent at that commit
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomicSync } from '../atomic.js';

/** What a repository holds: the Hub's URLs and the cache's folder names differ by it. */
export type RepoType = 'model' | 'dataset';

export const repoFolderName = (repo: string, type: RepoType = 'model'): string => [`${type}s`, ...repo.split('/')].join('--');

/** The inverse of repoFolderName: undefined for folders of other kinds (a model's id for datasets--, spaces--). */
export function repoIdOfFolder(folder: string, type: RepoType = 'model'): string | undefined {
  if (!folder.startsWith(`${type}s--`)) return undefined;
  return folder.slice(`${type}s--`.length).split('--').join('/');
}

export class RepoCache {
  readonly root: string;
  constructor(readonly cacheDir: string, readonly repo: string, type: RepoType = 'model') {
    this.root = join(cacheDir, repoFolderName(repo, type));
  }

  blob(etag: string): string {
    return join(this.root, 'blobs', etag);
  }

  snapshotDir(commit: string): string {
    return join(this.root, 'snapshots', commit);
  }

  snapshotFile(commit: string, file: string): string {
    return join(this.snapshotDir(commit), ...file.split('/'));
  }

  /** The commit `revision` names: itself when a commit hash, else what refs/ recorded. */
  commitOf(revision: string): string | undefined {
    if (/^[0-9a-f]{40}$/.test(revision)) return revision;
    try {
      return readFileSync(join(this.root, 'refs', ...revision.split('/')), 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }

  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const path = join(this.root, 'refs', ...revision.split('/'));
    if (existsSync(path) && readFileSync(path, 'utf8').trim() === commit) return;
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomicSync(path, commit);
  }

  /** Records that `file` does not exist at `commit`, as huggingface_hub does, for offline runs. */
  markMissing(commit: string, file: string): void {
    const path = join(this.root, '.no_exist', commit, ...file.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
  }

  isMarkedMissing(commit: string, file: string): boolean {
    return existsSync(join(this.root, '.no_exist', commit, ...file.split('/')));
  }

  /**
   * Puts snapshots/{commit}/{file} in place, pointing at the blob: made under a temporary name and
   * renamed over, so that a reader (another process linking the same file) never finds it missing.
   */
  linkSnapshot(commit: string, file: string, etag: string): string {
    const path = this.snapshotFile(commit, file);
    const blob = this.blob(etag);
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    mkdirSync(dirname(path), { recursive: true });
    try {
      symlinkSync(relative(dirname(path), blob), tmp);
    } catch {
      // Windows without developer mode, some network file systems: a copy, as huggingface_hub falls back to.
      copyFileSync(blob, tmp);
    }
    renameSync(tmp, path);
    return path;
  }
}
