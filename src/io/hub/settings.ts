/**
 * Where the Hub and its cache are, read from the environment the way huggingface_hub reads it, so
 * that a Python program and this library share one cache and one token.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ENDPOINT } from './hub-urls.js';

/** Options every Hub call takes; unset ones come from the environment. */
export interface HubOptions {
  /** A branch, tag or 40-hex commit (default 'main'). */
  revision?: string;
  /** The hub cache folder (default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub). */
  cacheDir?: string;
  /** Never touch the network: resolve from the cache only (also with HF_HUB_OFFLINE=1). */
  localFilesOnly?: boolean;
  /** Access token (default $HF_TOKEN, else the file $HF_HOME/token). */
  token?: string;
  /** The Hub's address (default $HF_ENDPOINT, else https://huggingface.co). */
  endpoint?: string;
  /** Download events, as transformers.js reports them. */
  progressCallback?: (event: ProgressEvent) => void;
  /** Where warnings go, e.g. "offline: using the cached files" (default console.warn). */
  onWarning?: (message: string) => void;
}

/** transformers.js's progress events. `name` is the repository id. */
export type ProgressEvent =
  | { status: 'initiate' | 'download' | 'done' | 'ready'; name: string; file: string }
  | { status: 'progress'; name: string; file: string; loaded: number; total: number; progress: number };

export { DEFAULT_ENDPOINT, DEFAULT_REVISION } from './hub-urls.js';

const env = (name: string): string | undefined => {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
};

const hfHome = (): string => env('HF_HOME') ?? join(env('XDG_CACHE_HOME') ?? join(homedir(), '.cache'), 'huggingface');

export function hubCacheDir(options: HubOptions = {}): string {
  return options.cacheDir ?? env('HF_HUB_CACHE') ?? join(hfHome(), 'hub');
}

export function hubEndpoint(options: HubOptions = {}): string {
  return (options.endpoint ?? env('HF_ENDPOINT') ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
}

/** True when huggingface_hub or transformers would refuse the network too (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE = 1/true/yes/on). */
export function isOffline(options: HubOptions = {}): boolean {
  return options.localFilesOnly === true || ['HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE'].some((v) => /^(1|true|yes|on)$/i.test(env(v) ?? ''));
}

/** Seconds to wait for the Hub's answer about a file before falling back on the cache ($HF_HUB_ETAG_TIMEOUT, default 10 as in Python). */
export function metadataTimeoutMs(): number {
  const s = Number(env('HF_HUB_ETAG_TIMEOUT') ?? 10);
  return (Number.isFinite(s) && s > 0 ? s : 10) * 1000;
}

export function hubToken(options: HubOptions = {}): string | undefined {
  if (options.token) return options.token;
  const fromEnv = env('HF_TOKEN');
  if (fromEnv) return fromEnv;
  try {
    return readFileSync(env('HF_TOKEN_PATH') ?? join(hfHome(), 'token'), 'utf8').trim() || undefined;
  } catch {
    return undefined; // no token file: anonymous access
  }
}
