/**
 * Raw text for masked-language-model pretraining: a .txt file or a folder of them, read here and
 * tokenized by the caller, then packed and masked by masking.ts (BERT's masking, static, seeded).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

// The masking needs no file system: the browser build imports it from masking.ts directly.
export { maskedExamples, maskedTextExamples } from './masking.js';
export type { MaskedExample, MaskingOptions } from './masking.js';

/** The text of a .txt file, or of every .txt file in a folder (sorted by name). */
export async function readTextCorpus(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new Error(`${path}: no such text file or folder (MLM data is a .txt file or a folder of .txt files)`);
  }
  if (!info.isDirectory()) return readFile(path, 'utf8');
  const files = (await readdir(path)).filter((f) => f.endsWith('.txt')).sort();
  if (files.length === 0) throw new Error(`${path}: the folder has no .txt files`);
  return (await Promise.all(files.map((f) => readFile(join(path, f), 'utf8')))).join('\n\n');
}
