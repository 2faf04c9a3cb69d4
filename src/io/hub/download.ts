/**
 * Fetching one blob into the cache so that interruptions, corruption and full disks leave no
 * broken file behind: bytes stream to `{blob}.incomplete`, an interrupted transfer resumes with
 * `Range: bytes=N-` (in this call, and in the next if this one gives up), the size and, for LFS
 * files, the sha256 are checked, and only then is the file renamed to its blob name.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { diskFull, errorFromResponse, HubError, describeFile, type FileRef } from './errors.js';

export interface BlobDownload {
  ref: FileRef;
  url: string;
  headers: Record<string, string>;
  blob: string;
  etag: string;
  expectedSize?: number;
  /** Called as bytes arrive: loaded so far (resumed bytes included) and the total when known. */
  onProgress?: (loaded: number, total: number) => void;
  /** Further attempts after a transfer breaks off, each resuming where the last one stopped. */
  retries?: number;
}

const isSha256 = (etag: string): boolean => /^[0-9a-f]{64}$/.test(etag);

const sizeOf = async (path: string): Promise<number> => {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
};

export async function downloadBlob(d: BlobDownload): Promise<void> {
  const incomplete = `${d.blob}.incomplete`;
  const retries = d.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      await transfer(d, incomplete, await sizeOf(incomplete));
      break;
    } catch (e) {
      // A broken connection: try again from where the file stops. The Hub's refusals are final.
      if (e instanceof HubError || attempt >= retries) throw e;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
  await verify(d, incomplete);
  await rename(incomplete, d.blob);
}

/** One GET: from byte `start` when the .incomplete file already holds that many. */
async function transfer(d: BlobDownload, incomplete: string, start: number): Promise<void> {
  if (d.expectedSize !== undefined && start === d.expectedSize) return;
  const headers = { ...d.headers, 'accept-encoding': 'identity', ...(start > 0 && { range: `bytes=${start}-` }) };
  const res = await fetch(d.url, { headers });
  if (res.status === 416 && start > 0) {
    // the part already here is the whole file, or garbage: start over
    await rm(incomplete, { force: true });
    return transfer(d, incomplete, 0);
  }
  if (res.status !== 200 && res.status !== 206) throw errorFromResponse(d.ref, res.status, res.headers.get('x-error-code'), 'authorization' in d.headers);
  const resumed = res.status === 206 ? start : 0;
  const length = Number(res.headers.get('content-length') ?? NaN);
  const total = d.expectedSize ?? (Number.isFinite(length) ? resumed + length : 0);
  const file = await open(incomplete, resumed > 0 ? 'a' : 'w');
  let loaded = resumed;
  try {
    d.onProgress?.(loaded, total);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      await file.write(chunk);
      loaded += chunk.length;
      d.onProgress?.(loaded, total);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw diskFull(d.ref, incomplete, e);
    throw e;
  } finally {
    await file.close();
  }
}

/** Size, then sha256 for LFS files (whose etag is their sha256): a bad file never becomes a blob. */
async function verify(d: BlobDownload, incomplete: string): Promise<void> {
  const size = await sizeOf(incomplete);
  if (d.expectedSize !== undefined && size !== d.expectedSize) {
    await rm(incomplete, { force: true });
    throw new HubError('SizeMismatch', d.ref, `${describeFile(d.ref)}: downloaded ${size} bytes, the Hub announced ${d.expectedSize}; the partial file was removed, try again`);
  }
  if (!isSha256(d.etag)) return;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(incomplete)) hash.update(chunk as Buffer);
  const digest = hash.digest('hex');
  if (digest !== d.etag) {
    await rm(incomplete, { force: true });
    throw new HubError('ChecksumMismatch', d.ref, `${describeFile(d.ref)}: the downloaded bytes have sha256 ${digest}, the Hub announced ${d.etag}; the corrupt file was removed, try again`);
  }
}
