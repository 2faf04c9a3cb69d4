/**
 * One file of a Hub repository as a local path in the shared cache: from the snapshot when it is
 * there, else fetched once per content (blobs are shared between commits), with offline mode and
 * a fallback on the cache when the network fails, as transformers and huggingface_hub behave.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RepoCache, type RepoType } from './cache-layout.js';
import { downloadBlob } from './download.js';
import { describeFile, diskFull, HubError, networkError, offlineMiss, type FileRef } from './errors.js';
import { acquireLock } from './file-lock.js';
import { authHeaders, fetchMetadata, resolveUrl, type FileMetadata } from './metadata.js';
import { isCommitHash } from './repo-id.js';
import { DEFAULT_REVISION, hubCacheDir, hubEndpoint, hubToken, isOffline, type HubOptions } from './settings.js';

export interface HubFileOptions extends HubOptions {
  /** A model's repository (default) or a dataset's. */
  repoType?: RepoType;
  /** How long to wait for another process's download of the same blob (default 10 minutes). */
  lockTimeoutMs?: number;
  /** Further attempts after a transfer breaks off (default 3). */
  retries?: number;
}

export interface HubFile {
  /** snapshots/{commit}/{file} in the cache. */
  path: string;
  commit: string;
}

/** Resolves `file` of `repo` at `options.revision` (default 'main') to a file in the cache. */
export async function hubFile(repo: string, file: string, options: HubFileOptions = {}): Promise<HubFile> {
  const ref: FileRef = { repo, type: options.repoType, revision: options.revision ?? DEFAULT_REVISION, file };
  const cache = new RepoCache(hubCacheDir(options), repo, options.repoType);
  const emit = (status: 'initiate' | 'download' | 'done' | 'ready') => options.progressCallback?.({ status, name: repo, file });
  emit('initiate');
  const finish = (path: string, commit: string): HubFile => {
    emit('done');
    emit('ready');
    return { path, commit };
  };
  // A commit names its files for good: what the snapshot holds (or knows absent) needs no request.
  if (isCommitHash(ref.revision)) {
    const known = fromCache(cache, ref);
    if (known) return finish(known.path, known.commit);
  }
  if (isOffline(options)) {
    const known = fromCache(cache, ref);
    if (known) return finish(known.path, known.commit);
    throw offlineMiss(ref, cache.cacheDir, 'offline mode is on (HF_HUB_OFFLINE=1 or localFilesOnly)');
  }
  const endpoint = hubEndpoint(options);
  const token = hubToken(options);
  let meta: FileMetadata;
  try {
    meta = await fetchMetadata(ref, endpoint, token);
  } catch (e) {
    if (e instanceof HubError && e.code === 'EntryNotFound' && e.commit) {
      cache.markMissing(e.commit, file);
      cache.writeRef(ref.revision, e.commit);
    }
    if (e instanceof HubError && e.code !== 'HttpError') throw e;
    // No network (or the Hub failing): the cached revision, as transformers falls back to it.
    const known = fromCache(cache, ref);
    if (!known) throw e instanceof HubError ? e : networkError(ref, resolveUrl(endpoint, ref), e);
    (options.onWarning ?? console.warn)(`cannot reach ${endpoint} (${(e as Error).message}): using the cached ${file} of ${repo} at revision '${ref.revision}' (commit ${known.commit})`);
    return finish(known.path, known.commit);
  }
  cache.writeRef(ref.revision, meta.commit);
  const snapshot = cache.snapshotFile(meta.commit, file);
  if (existsSync(snapshot)) return finish(snapshot, meta.commit);
  const blob = cache.blob(meta.etag);
  if (!existsSync(blob)) {
    emit('download');
    await fetchBlob(cache, ref, meta, options, endpoint, token);
  }
  try {
    return finish(cache.linkSnapshot(meta.commit, file, meta.etag), meta.commit);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw diskFull(ref, snapshot, e);
    throw e;
  }
}

/** The cached file for the revision; throws EntryNotFound when the cache knows it is absent. */
function fromCache(cache: RepoCache, ref: FileRef): HubFile | undefined {
  const commit = cache.commitOf(ref.revision);
  if (!commit) return undefined;
  const path = cache.snapshotFile(commit, ref.file);
  if (existsSync(path)) return { path, commit };
  if (cache.isMarkedMissing(commit, ref.file)) {
    const error = new HubError('EntryNotFound', ref, `${describeFile(ref)}: no such file in the repository (cached answer)`);
    error.commit = commit;
    throw error;
  }
  return undefined;
}

/** Downloads the blob under a lock, so that one process writes it and the others wait and reuse it. */
async function fetchBlob(cache: RepoCache, ref: FileRef, meta: FileMetadata, options: HubFileOptions, endpoint: string, token: string | undefined): Promise<void> {
  const blob = cache.blob(meta.etag);
  try {
    mkdirSync(join(cache.root, 'blobs'), { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw diskFull(ref, blob, e);
    throw e;
  }
  const release = await acquireLock(`${blob}.lock`, options.lockTimeoutMs ?? 600_000, `${ref.file} of ${ref.repo}`);
  try {
    if (existsSync(blob)) return; // another process finished it while we waited
    await downloadBlob({
      ref, url: meta.location, headers: authHeaders(meta.location, endpoint, token), blob, etag: meta.etag, expectedSize: meta.size, retries: options.retries,
      onProgress: (loaded, total) => options.progressCallback?.({ status: 'progress', name: ref.repo, file: ref.file, loaded, total, progress: total > 0 ? (100 * loaded) / total : 0 }),
    });
  } finally {
    release();
  }
}
