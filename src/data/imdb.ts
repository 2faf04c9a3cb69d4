/**
 * IMDB reviews in the `aclImdb` layout (`<path>/<split>/{pos,neg}/*.txt`, one review a file), and
 * generic text classification files: CSV with a header naming `text` and `label` (RFC 4180
 * quoting) or JSON Lines (`{"text": …, "label": …}`), chosen by extension.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { badRows, noUsableRows, type ReadOptions, type TextDataset, type TextExample } from './glue.js';

export const IMDB_LABELS = ['neg', 'pos'] as const;

/**
 * The most classes a text classification file may have: integer labels are ids below it, and at
 * most this many distinct names. One stray row (a label of 3000000000) would otherwise make a
 * classifier head of that many rows; no real task comes near it.
 */
export const MAX_CLASSES = 10_000;

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Code-unit order, so that the order never depends on the locale. */
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Reads one split of aclImdb: label 0 neg, 1 pos; neg files first, then pos, each sorted by name.
 * `<br />` line breaks of the original HTML become newlines. `path` is the aclImdb folder.
 */
export async function readImdb(path: string, split: 'train' | 'test', options: ReadOptions = {}): Promise<TextDataset> {
  const bad = badRows(options);
  const examples: TextExample[] = [];
  for (const [label, cls] of IMDB_LABELS.entries()) {
    const dir = join(path, split, cls);
    if (!(await isDirectory(dir))) {
      throw new Error(`IMDB folder not found: ${dir}\nexpected the aclImdb layout: <path>/{train,test}/{pos,neg}/*.txt`);
    }
    const names = (await readdir(dir)).filter((n) => n.endsWith('.txt')).sort(byName);
    // Read in bounded batches: 12,500 files a class, without 12,500 open descriptors at once.
    const BATCH = 64;
    for (let i = 0; i < names.length; i += BATCH) {
      const batch = names.slice(i, i + BATCH);
      const texts = await Promise.all(batch.map((n) => readFile(join(dir, n), 'utf8')));
      texts.forEach((text, k) => {
        const review = text.replace(/<br\s*\/?>/gi, '\n');
        if (review.trim() === '') bad.report(join(dir, batch[k]), 1, 'empty review');
        else examples.push({ textA: review, label });
      });
    }
  }
  if (examples.length === 0) throw noUsableRows(join(path, split), bad.skipped, 'no .txt reviews in pos/ or neg/');
  return { examples, labels: [...IMDB_LABELS], problem: 'single_label_classification', skipped: bad.skipped };
}

/** One CSV record: its fields and the line it starts on; or what made it unreadable. */
export type CsvRecord = { line: number; fields: string[] } | { line: number; error: string };

/**
 * RFC 4180 records: comma-separated fields, CRLF or LF line ends; a quoted field may hold commas,
 * line breaks and doubled quotes (`""` → `"`). A quote inside an unquoted field is kept as text.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const s = text.replace(/^\uFEFF/, '');
  let i = 0;
  let line = 1;
  while (i < s.length) {
    const start = line;
    const fields: string[] = [];
    let error: string | null = null;
    // One record: fields until an unquoted line end or the end of the text.
    for (;;) {
      let field = '';
      if (s[i] === '"') {
        i++;
        let closed = false;
        while (i < s.length) {
          const c = s[i];
          if (c === '"') {
            if (s[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (!closed) {
          records.push({ line: start, error: 'unterminated quoted field' });
          return records;
        }
        if (i < s.length && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') {
          error = `unexpected '${s[i]}' after a closing quote (a quote inside a quoted field is written "")`;
        }
      } else {
        while (i < s.length && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') field += s[i++];
      }
      if (error) {
        // Skip the rest of this physical line and resume at the next.
        while (i < s.length && s[i] !== '\n') i++;
        break;
      }
      fields.push(field);
      if (s[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (s[i] === '\r') i++;
    if (s[i] === '\n') {
      i++;
      line++;
    }
    if (error) records.push({ line: start, error });
    else if (!(fields.length === 1 && fields[0] === '')) records.push({ line: start, fields }); // blank line
  }
  return records;
}

/** A label that is a class id: an integer, or a string of digits. */
const isId = (l: string | number) => (typeof l === 'number' ? true : /^\s*\d+\s*$/.test(l));

interface RawRow {
  line: number;
  text: string;
  label: string | number | null;
}

function csvRows(file: string, content: string, report: (line: number, what: string) => void): RawRow[] {
  const records = parseCsv(content);
  const header = records.shift();
  if (!header || 'error' in header) throw new Error(`${file}:1: expected a header row naming 'text' and 'label' columns`);
  const names = header.fields.map((f) => f.trim());
  const textAt = names.indexOf('text');
  const labelAt = names.indexOf('label');
  if (textAt < 0) throw new Error(`${file}:1: header lacks a 'text' column; found ${names.join(', ')}`);
  const rows: RawRow[] = [];
  for (const r of records) {
    if ('error' in r) report(r.line, r.error);
    else if (r.fields.length !== names.length) report(r.line, `expected ${names.length} fields, found ${r.fields.length}`);
    else rows.push({ line: r.line, text: r.fields[textAt], label: labelAt < 0 ? null : r.fields[labelAt] });
  }
  return rows;
}

function jsonlRows(content: string, report: (line: number, what: string) => void): RawRow[] {
  const rows: RawRow[] = [];
  content
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((raw, k) => {
      const line = k + 1;
      if (raw.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (e) {
        report(line, `invalid JSON (${(e as Error).message})`);
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return report(line, 'expected a JSON object');
      const { text, label } = value as { text?: unknown; label?: unknown };
      if (typeof text !== 'string') return report(line, "'text' is missing or not a string");
      if (label !== undefined && typeof label !== 'string' && typeof label !== 'number') {
        return report(line, "'label' must be a string or an integer");
      }
      rows.push({ line, text, label: label ?? null });
    });
  return rows;
}

/**
 * A text classification file, `.csv` (header with `text` and `label`) or `.jsonl`. Integer labels
 * are class ids (labels '0' … max, each below MAX_CLASSES); otherwise every label is a class name,
 * ids in sorted order. Without a label column (or field), every example gets label −1 and labels is
 * null. A file that leaves no usable row is an error naming it.
 */
export async function readTextClassification(file: string, options: ReadOptions = {}): Promise<TextDataset> {
  const ext = extname(file).toLowerCase();
  if (ext !== '.csv' && ext !== '.jsonl') throw new Error(`${file}: expected a .csv or .jsonl file, got '${ext || 'no extension'}'`);
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  const bad = badRows(options);
  const report = (line: number, what: string) => bad.report(file, line, what);
  let rows = ext === '.csv' ? csvRows(file, content, report) : jsonlRows(content, report);

  // Labels: drop rows whose label is empty, a non-integer number or an id past MAX_CLASSES, then decide ints vs names.
  rows = rows.filter((r) => {
    if (r.label === null) return true;
    if (typeof r.label === 'number' && !(Number.isInteger(r.label) && r.label >= 0)) {
      report(r.line, `label ${r.label} is not a non-negative integer`);
      return false;
    }
    if (typeof r.label === 'string' && r.label.trim() === '') {
      report(r.line, 'empty label');
      return false;
    }
    if (isId(r.label) && !(Number(r.label) < MAX_CLASSES)) {
      report(r.line, `label ${String(r.label).trim()} is not a class id: integer labels must be below ${MAX_CLASSES}`);
      return false;
    }
    return true;
  });
  const present = rows.filter((r) => r.label !== null);
  if (present.length > 0 && present.length < rows.length) {
    // Mixed labelled and unlabelled rows: the unlabelled ones are the malformed ones.
    rows = rows.filter((r) => {
      if (r.label !== null) return true;
      report(r.line, "missing 'label'");
      return false;
    });
  }
  let labels: string[] | null = null;
  let idOf: (l: string | number) => number = () => -1;
  if (present.length > 0) {
    if (present.every((r) => isId(r.label as string | number))) {
      const max = present.reduce((m, r) => Math.max(m, Number(r.label)), 0);
      labels = Array.from({ length: max + 1 }, (_, k) => String(k));
      idOf = (l) => Number(l);
    } else {
      labels = [...new Set(present.map((r) => String(r.label).trim()))].sort(byName);
      if (labels.length > MAX_CLASSES) {
        throw new Error(`${file}: ${labels.length} distinct labels; at most ${MAX_CLASSES} classes are supported (is the 'label' column the right one?)`);
      }
      const ids = new Map(labels.map((l, k) => [l, k]));
      idOf = (l) => ids.get(String(l).trim()) as number;
    }
  }
  if (rows.length === 0) throw noUsableRows(file, bad.skipped);
  const examples = rows.map((r) => ({ textA: r.text, label: r.label === null ? -1 : idOf(r.label) }));
  return { examples, labels, problem: 'single_label_classification', skipped: bad.skipped };
}
