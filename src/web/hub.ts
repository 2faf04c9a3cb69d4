/**
 * Models by Hub id in the browser, as transformers.js loads them: `fetch` of
 * `{endpoint}/{repo}/resolve/{revision}/{file}` and the Cache API (one cache, keyed by URL) in place
 * of the file cache, so that a second visit loads from the cache without a request. No Node
 * built-ins: this module is part of the web entry. It returns the files a model folder holds, for the
 * demo page's folder loader (model-folder.ts).
 */
import { errorFromResponse, HubError, networkError, type FileRef } from '../io/hub/errors.js';
import { authHeaders, DEFAULT_ENDPOINT, DEFAULT_REVISION, resolveUrl } from '../io/hub/hub-urls.js';
import { shardFiles, TOKENIZER_FILES, WEIGHT_FILES } from '../io/hub/repo-files.js';
import type { ProgressEvent } from '../io/hub/settings.js';
import { parseTorchCheckpoint } from '../io/pytorch.js';
import { mergeSafetensors, tensorsToSafetensors } from '../io/safetensors-merge.js';

export interface WebHubOptions {
  /** The Hub (default https://huggingface.co); it must send CORS headers, as huggingface.co does. */
  endpoint?: string;
  /** A branch, tag or commit (default 'main'). */
  revision?: string;
  /** Access token for gated or private repositories. */
  token?: string;
  /** The Cache API cache (default 'nystromformer-hub'); null: fetch every time. */
  cacheName?: string | null;
  /** transformers.js's progress events, as the Node client sends them. */
  progressCallback?: (event: ProgressEvent) => void;
}

export const WEB_HUB_CACHE = 'nystromformer-hub';

/**
 * config.json, model.safetensors and the tokenizer files the repository has, by file name. The
 * weights are chosen as transformers does: model.safetensors, else its sharded index (the shards
 * merged into one), else pytorch_model.bin (read by the same restricted unpickler as in Node, never
 * executing anything, and handed on as safetensors). A sharded .bin is refused with a clear error.
 */
export async function fetchHubModel(repo: string, options: WebHubOptions = {}): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const get = async (file: string, required: boolean) => {
    const bytes = await hubBytes(repo, file, options, required);
    if (bytes) files.set(file, bytes);
    return bytes;
  };
  await get('config.json', true);
  const [single, index] = WEIGHT_FILES.safetensors;
  if (!(await get(single, false))) {
    const indexBytes = await get(index, false);
    if (!indexBytes) {
      const bin = await hubBytes(repo, WEIGHT_FILES.bin[0], options, false);
      if (!bin) throw await noWeights(repo, options);
      files.set(single, tensorsToSafetensors([{ name: `${WEIGHT_FILES.bin[0]} of ${repo}`, tensors: parseTorchCheckpoint(bin, `${WEIGHT_FILES.bin[0]} of ${repo}`) }]));
      for (const file of TOKENIZER_FILES) await get(file, file === 'tokenizer.json');
      return files;
    }
    const names = shardFiles(new TextDecoder().decode(indexBytes), `${index} of ${repo}`);
    const shards = [];
    for (const name of names) shards.push({ name, bytes: (await hubBytes(repo, name, options, true))! });
    files.set(single, mergeSafetensors(shards));
    files.delete(index);
  }
  for (const file of TOKENIZER_FILES) await get(file, file === 'tokenizer.json');
  return files;
}

const refOf = (repo: string, file: string, options: WebHubOptions): FileRef => ({ repo, file, revision: options.revision ?? DEFAULT_REVISION });

/** The error for a repository without weights the browser reads: a sharded pytorch_model.bin is named. */
async function noWeights(repo: string, options: WebHubOptions): Promise<HubError> {
  const ref = refOf(repo, WEIGHT_FILES.safetensors[0], options);
  const where = `${repo} at revision '${ref.revision}'`;
  const binIndex = await hubBytes(repo, WEIGHT_FILES.bin[1], { ...options, cacheName: null }, false, 'HEAD').catch(() => undefined);
  return new HubError('EntryNotFound', ref, binIndex
    ? `${where} has only a sharded pytorch_model.bin (${WEIGHT_FILES.bin[1]}), which the page does not read: use a revision with model.safetensors, or load it in Node`
    : `${where} has no model weights (looked for ${[...WEIGHT_FILES.safetensors, WEIGHT_FILES.bin[0]].join(', ')})`);
}

/** One file's bytes: from the Cache API when there, else fetched (and cached); undefined when the repository lacks it and it is optional. */
async function hubBytes(repo: string, file: string, options: WebHubOptions, required: boolean, method: 'GET' | 'HEAD' = 'GET'): Promise<Uint8Array | undefined> {
  const ref = refOf(repo, file, options);
  const endpoint = (options.endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  const url = resolveUrl(endpoint, ref);
  const emit = (status: 'initiate' | 'download' | 'done' | 'ready') => options.progressCallback?.({ status, name: repo, file });
  // The Cache API exists in secure contexts only (https, localhost).
  const cacheName = options.cacheName === undefined ? WEB_HUB_CACHE : options.cacheName;
  const cache = cacheName !== null && typeof caches !== 'undefined' && method === 'GET' ? await caches.open(cacheName) : undefined;
  if (method === 'GET') emit('initiate');
  const cached = await cache?.match(url);
  if (cached) {
    const bytes = new Uint8Array(await cached.arrayBuffer());
    emit('done');
    emit('ready');
    return bytes;
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers: authHeaders(url, endpoint, options.token) });
  } catch (e) {
    throw networkError(ref, url, e);
  }
  if (res.status === 404 && !required && (res.headers.get('x-error-code') ?? 'EntryNotFound') === 'EntryNotFound') return undefined;
  if (!res.ok) throw errorFromResponse(ref, res.status, res.headers.get('x-error-code'), options.token !== undefined);
  if (method === 'HEAD') return new Uint8Array(0);
  emit('download');
  const bytes = await readBody(res, (loaded, total) => options.progressCallback?.({ status: 'progress', name: repo, file, loaded, total, progress: total > 0 ? (100 * loaded) / total : 0 }));
  // Stored as plain bytes: the answer itself may be a redirect's, which not every cache accepts.
  // A full quota (a large checkpoint) costs the next visit a download, not this load.
  await cache?.put(url, new Response(bytes, { headers: { 'content-type': res.headers.get('content-type') ?? 'application/octet-stream' } }))
    .catch((e: Error) => console.warn(`${file} of ${repo} was not kept in the browser's cache (${e.message}): the next load fetches it again`));
  emit('done');
  emit('ready');
  return bytes;
}

/** The body, with progress as chunks arrive. */
async function readBody(res: Response, onProgress: (loaded: number, total: number) => void): Promise<Uint8Array<ArrayBuffer>> {
  const total = Number(res.headers.get('content-length') ?? 0) || 0;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  onProgress(0, total);
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onProgress(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
