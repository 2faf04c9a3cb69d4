/**
 * The Hub datasets the tests serve, written here as parquet with hyparquet-writer in the Hub's own
 * schema (as the dataset viewer converts nyu-mll/glue and stanfordnlp/imdb): GLUE's sst2, mnli and
 * stsb from the committed GLUE TSV fixtures, with the Hub's column names, split names and class
 * numbering, and IMDB from the committed aclImdb fixture (its train split in two files).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { readGlue, type GlueSplit } from '../src/data/index.js';
import type { HubServer } from './hub-server.js';

export const DATA = fileURLToPath(new URL('../../test/fixtures/data/', import.meta.url));
export const GLUE_COMMIT = '1'.repeat(40);
export const IMDB_COMMIT = '2'.repeat(40);

export type Column = { name: string; data: unknown[]; type: 'STRING' | 'INT64' | 'INT32' | 'FLOAT' };
export const parquet = (columns: Column[]): Uint8Array => new Uint8Array(parquetWriteBuffer({ columnData: columns } as Parameters<typeof parquetWriteBuffer>[0]));
const text = (name: string, data: unknown[]): Column => ({ name, data, type: 'STRING' });
const ids = (data: unknown[]): Column => ({ name: 'idx', data: data.map((_, i) => i), type: 'INT32' });

/** One GLUE split in the Hub's schema: `columns` names the text columns; `hubLabel` turns the reader's label into the Hub's. */
async function glueSplit(task: string, split: GlueSplit, columns: [string, string?], hubLabel: (label: number, names: string[] | null) => number | bigint): Promise<Uint8Array> {
  const set = await readGlue(join(DATA, 'glue'), task, split);
  const [a, b] = columns;
  return parquet([
    text(a, set.examples.map((e) => e.textA)),
    ...(b ? [text(b, set.examples.map((e) => e.textB))] : []),
    set.labels ? { name: 'label', data: set.examples.map((e) => hubLabel(e.label, set.labels)), type: 'INT64' } : { name: 'label', data: set.examples.map((e) => e.label), type: 'FLOAT' },
    ids(set.examples),
  ]);
}

const MNLI_HUB_CLASSES = ['entailment', 'neutral', 'contradiction'];

/** nyu-mll/glue: sst2 (train, validation, a test split with labels −1), mnli (train, validation_matched), stsb (train, validation). */
export async function glueDataset(): Promise<Map<string, Uint8Array>> {
  const same = (l: number) => BigInt(l);
  const files = new Map<string, Uint8Array>();
  files.set('sst2/train/0000.parquet', await glueSplit('sst2', 'train', ['sentence'], same));
  files.set('sst2/validation/0000.parquet', await glueSplit('sst2', 'dev', ['sentence'], same));
  files.set('sst2/test/0000.parquet', await glueSplit('sst2', 'dev', ['sentence'], () => -1n));
  const mnli = (l: number, names: string[] | null) => BigInt(MNLI_HUB_CLASSES.indexOf(names![l]));
  files.set('mnli/train/0000.parquet', await glueSplit('mnli', 'train', ['premise', 'hypothesis'], mnli));
  files.set('mnli/validation_matched/0000.parquet', await glueSplit('mnli', 'dev_matched', ['premise', 'hypothesis'], mnli));
  files.set('stsb/train/0000.parquet', await glueSplit('stsb', 'train', ['sentence1', 'sentence2'], same));
  files.set('stsb/validation/0000.parquet', await glueSplit('stsb', 'dev', ['sentence1', 'sentence2'], same));
  return files;
}

/** stanfordnlp/imdb, config plain_text: the raw reviews (HTML line breaks and all), neg then pos; train in two files. */
export function imdbDataset(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const split of ['train', 'test']) {
    const rows = ['neg', 'pos'].flatMap((cls, label) => {
      const dir = join(DATA, 'aclImdb', split, cls);
      return readdirSync(dir).sort().map((n) => ({ text: readFileSync(join(dir, n), 'utf8'), label: BigInt(label) }));
    });
    const parts = split === 'train' ? [rows.slice(0, 4), rows.slice(4)] : [rows];
    parts.forEach((part, k) => files.set(`plain_text/${split}/${String(k).padStart(4, '0')}.parquet`, parquet([
      text('text', part.map((r) => r.text)), { name: 'label', data: part.map((r) => r.label), type: 'INT64' },
    ])));
  }
  return files;
}

/** Adds nyu-mll/glue and stanfordnlp/imdb to the stand-in Hub. */
export async function addDatasets(hub: HubServer): Promise<void> {
  hub.addDataset('nyu-mll/glue', await glueDataset(), GLUE_COMMIT);
  hub.addDataset('stanfordnlp/imdb', imdbDataset(), IMDB_COMMIT);
}
