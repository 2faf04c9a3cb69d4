/** Node only: a folder argument checked before its files are looked for, so a typo is not reported as a missing file. */
import { stat } from 'node:fs/promises';

/** Throws "DIR: no such folder" or "DIR: not a folder (a file)" when `dir` is not a folder. */
export async function assertFolder(dir: string): Promise<void> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(dir)).isDirectory();
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw new Error(`${dir}: no such folder`);
    throw new Error(`${dir}: ${(e as Error).message}`, { cause: e });
  }
  if (!isFolder) throw new Error(`${dir}: not a folder (a file)`);
}
