/**
 * Long Range Arena's byte-level text tasks (docs/algorithm.md §3): Text is IMDB read as UTF-8 bytes, Retrieval
 * is pairs of ACL Anthology papers (AAN) — does the first cite the second? — in LRA's TSV layout.
 * Byte b is token id b + 1, so that id 0 stays padding: a vocabulary of 257.
 */
import { readFile } from 'node:fs/promises';
import { badRows, noUsableRows, type ReadOptions } from './glue.js';
import { readImdb } from './imdb.js';
import { AAN_FILES } from './lra-settings.js';
import type { TokenExample } from './synthetic.js';

const utf8 = new TextEncoder();

/** The first `maxBytes` bytes of the text's UTF-8 encoding, as ids 1–256. */
export function byteIds(text: string, maxBytes: number): number[] {
  const bytes = utf8.encode(text).subarray(0, maxBytes);
  return Array.from(bytes, (b) => b + 1);
}

/** One aclImdb split as byte ids (LRA Text: 4000 bytes, label 0 neg / 1 pos). */
export async function readImdbBytes(path: string, split: 'train' | 'test', maxBytes = 4000, options: ReadOptions = {}): Promise<TokenExample[]> {
  const { examples } = await readImdb(path, split, options);
  return examples.map((e) => ({ inputIds: byteIds(e.textA, maxBytes), label: e.label as number }));
}

/**
 * Reads an AAN pairs TSV: no header; columns label (0/1, possibly written 1.0), id of paper one, id of
 * paper two, text one, text two. Each text becomes at most `maxBytes` byte ids; the first document is
 * `inputIds`, the second `inputIds2`. Malformed rows are skipped with a warning naming file and line.
 */
export async function readAan(path: string, maxBytes = 4000, options: ReadOptions = {}): Promise<TokenExample[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`${path}: cannot read the AAN pairs file (expected LRA's ${Object.values(AAN_FILES).join(' / ')} layout)`);
  }
  const bad = badRows(options);
  const out: TokenExample[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const cells = line.split('\t');
    if (cells.length !== 5) return bad.report(path, i + 1, `expected 5 tab-separated columns (label, id1, id2, text1, text2), got ${cells.length}`);
    const label = cells[0].trim() === '' ? NaN : Number(cells[0]); // Number('') is 0
    if (label !== 0 && label !== 1) return bad.report(path, i + 1, `label must be 0 or 1, got '${cells[0]}'`);
    out.push({ inputIds: byteIds(cells[3], maxBytes), inputIds2: byteIds(cells[4], maxBytes), label });
  });
  if (out.length === 0) throw noUsableRows(path, bad.skipped);
  return out;
}
