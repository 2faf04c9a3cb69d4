import type { RepoType } from './cache-layout.js';

/** Hub failures a user can act on: each names the repository, the revision and the file. */

export type HubErrorCode =
  | 'RepositoryNotFound' | 'GatedRepo' | 'RevisionNotFound' | 'EntryNotFound'
  | 'SizeMismatch' | 'ChecksumMismatch' | 'DiskFull' | 'OfflineMiss' | 'NetworkError' | 'HttpError';

/** Where a Hub call was looking: for messages. */
export interface FileRef {
  repo: string;
  /** 'model' when absent. */
  type?: RepoType;
  revision: string;
  file: string;
}

export class HubError extends Error {
  /** The commit the Hub named in its answer, when it did (a missing file's answer does). */
  commit?: string;
  constructor(readonly code: HubErrorCode, readonly ref: FileRef, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubError';
  }
}

/** 'owner/name', or 'dataset owner/name'. */
export const repoName = (r: Pick<FileRef, 'repo' | 'type'>): string => (r.type === 'dataset' ? `dataset ${r.repo}` : r.repo);
const where = (r: FileRef): string => `${r.file} of ${repoName(r)} at revision '${r.revision}'`;

/** The error a non-2xx answer of `resolve` means, from the Hub's X-Error-Code header and the status. */
export function errorFromResponse(ref: FileRef, status: number, errorCode: string | null, hasToken: boolean): HubError {
  const code = errorCode ?? (status === 404 ? 'EntryNotFound' : status === 401 ? 'RepositoryNotFound' : undefined);
  const { repo, revision, file } = ref;
  switch (code) {
    case 'RepositoryNotFound':
      return new HubError('RepositoryNotFound', ref, `repository '${repo}' not found on the Hub (asked for ${file} at revision '${revision}'): check the id; ` +
        (hasToken ? 'if it is private, your token has no access to it' : 'if it is private, set HF_TOKEN to a token that can read it'));
    case 'GatedRepo':
      return new HubError('GatedRepo', ref, `repository '${repo}' is gated (asked for ${file} at revision '${revision}'): ` +
        (hasToken ? `your token has no access yet: request it on the repository's page` : `accept its conditions on the Hub, then set HF_TOKEN to your access token`));
    case 'RevisionNotFound':
      return new HubError('RevisionNotFound', ref, `revision '${revision}' not found in ${repo} (asked for ${file}): check the branch, tag or commit`);
    case 'EntryNotFound':
      return new HubError('EntryNotFound', ref, `${where(ref)}: no such file in the repository`);
  }
  if (status === 401 || status === 403) {
    return new HubError('GatedRepo', ref, `${where(ref)}: access denied (HTTP ${status}): ${hasToken ? 'your token cannot read it' : 'set HF_TOKEN to an access token that can read it'}`);
  }
  return new HubError('HttpError', ref, `${where(ref)}: the Hub answered HTTP ${status}${errorCode ? ` (${errorCode})` : ''}`);
}

export function diskFull(ref: FileRef, path: string, cause: unknown): HubError {
  return new HubError('DiskFull', ref, `${where(ref)}: no space left on the disk while writing ${path}: free some space or set HF_HUB_CACHE to another disk`, { cause });
}

export function offlineMiss(ref: FileRef, cacheDir: string, why: string): HubError {
  const online = ref.type === 'dataset' ? 'run the command once online' : `run once online (e.g. \`nystromformer download ${ref.repo}\`)`;
  return new HubError('OfflineMiss', ref, `${where(ref)} is not in the cache (${cacheDir}) and ${why}: ${online} to cache it`);
}

export function networkError(ref: FileRef, url: string, cause: unknown): HubError {
  return new HubError('NetworkError', ref, `${where(ref)}: cannot reach ${url} (${(cause as Error)?.message ?? cause}) and the cache does not hold it`, { cause });
}

export { where as describeFile };
