/** Writing files so that a crash or a kill leaves either the old file or the new one, never half of one. */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { tempPathFor } from './temp-files.js';

/** A temporary file in the same folder (temp-files.ts names it), flushed to disk, then renamed over `path`. */
export function writeFileAtomicSync(path: string, bytes: Uint8Array | string): void {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const tmp = tempPathFor(path);
  let fd: number | undefined = openSync(tmp, 'wx');
  try {
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
}
