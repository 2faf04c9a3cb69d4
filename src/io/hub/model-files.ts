/**
 * Which files make a model folder, chosen as transformers chooses them: config.json, the first
 * weights the repository has (model.safetensors, its sharded index, pytorch_model.bin, its sharded
 * index) and the tokenizer files. The result is a snapshot folder the folder loaders read unchanged.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { WeightsFormat } from '../weights.js';
import { HubError } from './errors.js';
import { hubFile, type HubFileOptions } from './resolve-file.js';
import { checkRepoId } from './repo-id.js';
import { shardFiles, TOKENIZER_FILES, WEIGHT_FILES } from './repo-files.js';

export { TOKENIZER_FILES, WEIGHT_CANDIDATES } from './repo-files.js';

export interface ResolveModelOptions extends HubFileOptions {
  /** What the folder needs: 'model' (config, weights, tokenizer files when present; default) or 'tokenizer' (tokenizer files only). */
  files?: 'model' | 'tokenizer';
  /** More optional files to fetch when the repository has them (e.g. expected.safetensors). */
  extraFiles?: string[];
  /** Weights wanted: the first format the repository has (default), only this format, or every format it has ('all'). */
  weights?: WeightsFormat | 'all';
}

/** Absent files: the Hub's 404 for a file, or (offline, or with no network) a file the cache does not hold. */
const isAbsent = (e: unknown): e is HubError => e instanceof HubError && ['EntryNotFound', 'OfflineMiss', 'NetworkError'].includes(e.code);

/**
 * A local folder for `idOrPath`: the path itself when it exists (a folder always wins over an id),
 * else the snapshot folder of the Hub repository `owner/name`, fetched into the cache as needed.
 */
export async function resolveModelDir(idOrPath: string, options: ResolveModelOptions = {}): Promise<string> {
  if (existsSync(idOrPath)) return idOrPath;
  checkRepoId(idOrPath);
  const repo = idOrPath;
  // The first file fixes the commit: the others are fetched at that commit, so that a push in
  // between cannot mix two versions (and a cached commit needs no request).
  let revision = options.revision;
  const asked = options.revision ?? 'main';
  const get = async (file: string): Promise<string> => {
    try {
      const got = await hubFile(repo, file, { ...options, revision });
      revision = got.commit;
      return got.path;
    } catch (e) {
      // Messages name the revision the user asked for, and the commit it stood for.
      if (e instanceof HubError && revision && revision !== asked) {
        e.message = e.message.replace(`revision '${revision}'`, `revision '${asked}' (commit ${revision})`);
      }
      throw e;
    }
  };
  const absent: HubError[] = [];
  const optional = async (file: string): Promise<string | undefined> => {
    try {
      return await get(file);
    } catch (e) {
      if (!isAbsent(e)) throw e;
      absent.push(e);
      return undefined;
    }
  };
  let first: string;
  if (options.files === 'tokenizer') {
    first = await get('tokenizer.json');
  } else {
    first = await get('config.json');
    await modelWeights(repo, options.revision, options.weights, get, optional, absent);
    await optional('tokenizer.json');
  }
  for (const f of [...TOKENIZER_FILES.slice(1), ...(options.extraFiles ?? [])]) await optional(f);
  return dirname(first);
}

async function modelWeights(
  repo: string, revision: string | undefined, wanted: WeightsFormat | 'all' | undefined,
  get: (f: string) => Promise<string>, optional: (f: string) => Promise<string | undefined>, absent: HubError[],
): Promise<void> {
  const formats = wanted === undefined || wanted === 'all' ? (Object.keys(WEIGHT_FILES) as WeightsFormat[]) : [wanted];
  const candidates = formats.flatMap((f) => WEIGHT_FILES[f]);
  let found = false;
  for (const format of formats) {
    for (const candidate of WEIGHT_FILES[format]) {
      const path = await optional(candidate);
      if (!path) continue;
      if (candidate.endsWith('.index.json')) for (const shard of await shardsOf(path)) await get(shard);
      found = true;
      break;
    }
    if (found && wanted !== 'all') return;
  }
  if (found) return;
  // Not in the cache and no way to ask: say so, rather than that the repository has no weights.
  const unknown = absent.find((e) => e.code !== 'EntryNotFound');
  if (unknown) throw new HubError(unknown.code, unknown.ref, `${unknown.message} (nor any of ${candidates.join(', ')})`, { cause: unknown });
  throw new HubError('EntryNotFound', { repo, revision: revision ?? 'main', file: candidates[0] },
    `${repo} at revision '${revision ?? 'main'}' has no model weights (looked for ${candidates.join(', ')})`);
}

/** The shard files a weight index names, each once. */
async function shardsOf(indexPath: string): Promise<string[]> {
  return shardFiles(await readFile(indexPath, 'utf8'), indexPath);
}
