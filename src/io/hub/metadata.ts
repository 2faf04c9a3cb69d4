/**
 * What the Hub says about a file before any byte is fetched: a HEAD of
 * `{endpoint}/{repo}/resolve/{revision}/{file}` with redirects not followed, because the first
 * answer carries the commit (X-Repo-Commit), the content's etag and size (X-Linked-Etag /
 * X-Linked-Size for LFS files, which answer 302 to a content host) and the bytes' location.
 */
import { errorFromResponse, HubError, type FileRef } from './errors.js';
import { authHeaders, resolveUrl } from './hub-urls.js';
import { metadataTimeoutMs } from './settings.js';

export { authHeaders, resolveUrl } from './hub-urls.js';

export interface FileMetadata {
  /** The commit the revision resolved to. */
  commit: string;
  /** The blob's name in the cache: a sha256 for LFS files, a git hash for small ones. */
  etag: string;
  /** Bytes, when the Hub said. */
  size?: number;
  /** Where to GET the bytes (the content host for LFS files). */
  location: string;
}

/** An etag as the cache names blobs: without quotes and without a weak `W/` prefix. */
export const normalizeEtag = (etag: string): string => etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');

const MAX_HOPS = 5;

/**
 * Throws HubError for the Hub's refusals (with `commit` set when the Hub told it, as for a missing
 * file), and lets fetch's own errors (no network) through for the caller to fall back on the cache.
 */
export async function fetchMetadata(ref: FileRef, endpoint: string, token: string | undefined): Promise<FileMetadata> {
  let url = resolveUrl(endpoint, ref);
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    const res = await fetch(url, {
      method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(metadataTimeoutMs()),
      headers: { ...authHeaders(url, endpoint, token), 'accept-encoding': 'identity' },
    });
    const h = res.headers;
    const commit = h.get('x-repo-commit') ?? undefined;
    if (res.status >= 400) {
      const error = errorFromResponse(ref, res.status, h.get('x-error-code'), token !== undefined);
      error.commit = commit;
      throw error;
    }
    const location = res.status >= 300 && res.status < 400 && h.get('location') ? new URL(h.get('location')!, url).href : undefined;
    const etag = h.get('x-linked-etag') ?? h.get('etag');
    if (commit && etag) {
      const size = Number(h.get('x-linked-size') ?? h.get('content-length') ?? NaN);
      // A small file is fetched at the commit, not the branch, so that a push in between cannot swap it.
      const at = location ?? (hop === 0 ? resolveUrl(endpoint, { ...ref, revision: commit }) : url);
      return { commit, etag: normalizeEtag(etag), size: Number.isFinite(size) ? size : undefined, location: at };
    }
    // A renamed repository answers a redirect without the file's metadata: ask where it points.
    if (!location) throw new HubError('HttpError', ref, `${url}: the Hub's answer (HTTP ${res.status}) has no X-Repo-Commit and ETag: is ${endpoint} a Hugging Face Hub?`);
    url = location;
  }
  throw new HubError('HttpError', ref, `${resolveUrl(endpoint, ref)}: more than ${MAX_HOPS} redirects`);
}
