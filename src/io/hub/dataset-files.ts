/**
 * The parquet files of one split of a Hub dataset, as the dataset viewer publishes them: the Hub's
 * listing `/api/datasets/{repo}/parquet/{config}/{split}` answers with URLs
 * `/api/datasets/{repo}/parquet/{config}/{split}/{n}.parquet`, which stand for the files
 * `{config}/{split}/{nnnn}.parquet` of the branch refs/convert/parquet. Those are fetched like any
 * file (hubFile), so that they land in the shared cache as huggingface_hub would put them
 * (datasets--{owner}--{name}/snapshots/{commit}/{config}/{split}/0000.parquet), and offline the
 * split is what that snapshot folder holds.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RepoCache } from './cache-layout.js';
import { errorFromResponse, HubError, networkError, offlineMiss, type FileRef } from './errors.js';
import { authHeaders } from './metadata.js';
import { hubFile, type HubFileOptions } from './resolve-file.js';
import { isRepoId } from './repo-id.js';
import { hubCacheDir, hubEndpoint, hubToken, isOffline, metadataTimeoutMs } from './settings.js';

/** The branch the dataset viewer writes its parquet conversion to. */
export const PARQUET_REVISION = 'refs/convert/parquet';

/** Local paths of the split's parquet files, in order, fetched into the cache as needed. */
export async function datasetSplitFiles(repo: string, config: string, split: string, options: HubFileOptions = {}): Promise<string[]> {
  if (!isRepoId(repo)) throw new Error(`'${repo}' is not a Hugging Face dataset id (owner/name: letters, digits, '-', '_', '.'; no '--' or '..')`);
  const ref: FileRef = { repo, type: 'dataset', revision: PARQUET_REVISION, file: `${config}/${split}` };
  const cache = new RepoCache(hubCacheDir(options), repo, 'dataset');
  if (isOffline(options)) return cachedSplit(cache, ref, 'offline mode is on (HF_HUB_OFFLINE=1 or localFilesOnly)');
  let files: string[];
  try {
    files = await listSplit(ref, options);
  } catch (e) {
    // No network (or the Hub failing): the split as the cache holds it. The Hub's refusals stand.
    if (e instanceof HubError && e.code !== 'HttpError' && e.code !== 'NetworkError') throw e;
    const paths = cachedSplit(cache, ref, `the Hub cannot be reached (${(e as Error).message})`);
    (options.onWarning ?? console.warn)(`cannot list ${config}/${split} of dataset ${repo} (${(e as Error).message}): using the ${paths.length} cached parquet file(s)`);
    return paths;
  }
  // The first file fixes the commit, so that a conversion pushed in between cannot mix two versions.
  let revision = PARQUET_REVISION;
  const paths: string[] = [];
  for (const file of files) {
    const got = await hubFile(repo, file, { ...options, repoType: 'dataset', revision });
    revision = got.commit;
    paths.push(got.path);
  }
  return paths;
}

/** The files the Hub lists for the split, as paths in refs/convert/parquet. */
async function listSplit(ref: FileRef, options: HubFileOptions): Promise<string[]> {
  const endpoint = hubEndpoint(options);
  const url = `${endpoint}/api/datasets/${ref.repo}/parquet/${ref.file.split('/').map(encodeURIComponent).join('/')}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: authHeaders(url, endpoint, hubToken(options)), signal: AbortSignal.timeout(metadataTimeoutMs()) });
  } catch (e) {
    throw networkError(ref, url, e);
  }
  if (res.status === 404) {
    const [config, split] = ref.file.split('/');
    throw new HubError('EntryNotFound', ref, `dataset ${ref.repo} has no parquet files for config '${config}', split '${split}' (${url} answered 404): check the config and split names`);
  }
  if (!res.ok) throw errorFromResponse(ref, res.status, res.headers.get('x-error-code'), hubToken(options) !== undefined);
  const urls: unknown = await res.json().catch(() => undefined);
  if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === 'string')) {
    throw new HubError('HttpError', ref, `${url}: expected a JSON array of parquet file URLs`);
  }
  return urls.map((u) => parquetFile(ref, u));
}

/** A listed URL → its file in refs/convert/parquet: `…/parquet/{config}/{split}/{n}.parquet` → `{config}/{split}/{nnnn}.parquet`, or a resolve URL's path. */
export function parquetFile(ref: FileRef, url: string): string {
  const path = new URL(url).pathname; // still encoded: a revision's '/' is %2F there
  const api = /\/api\/datasets\/(.+?)\/parquet\/(.+)\/(\d+)\.parquet$/.exec(path);
  if (api && decodeURIComponent(api[1]) === ref.repo) return `${decodeURIComponent(api[2])}/${api[3].padStart(4, '0')}.parquet`;
  const resolved = /\/datasets\/(.+?)\/resolve\/[^/]+\/(.+\.parquet)$/.exec(path);
  if (resolved && decodeURIComponent(resolved[1]) === ref.repo) return decodeURIComponent(resolved[2]);
  throw new HubError('HttpError', ref, `the Hub listed ${url} for ${ref.file} of dataset ${ref.repo}: not a parquet file of the dataset`);
}

/** The split's parquet files in the cached snapshot of refs/convert/parquet. */
function cachedSplit(cache: RepoCache, ref: FileRef, why: string): string[] {
  const commit = cache.commitOf(PARQUET_REVISION);
  const dir = commit && cache.snapshotFile(commit, ref.file);
  const names = dir && existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.parquet')).sort() : [];
  if (names.length === 0) throw offlineMiss(ref, cache.cacheDir, why);
  return names.map((n) => join(dir as string, n));
}
