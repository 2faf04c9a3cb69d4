/**
 * A model folder the visitor picks (`<input type=file webkitdirectory>`) or drops on the page: its
 * files found by name and parsed here, so that an error names the file that is missing or malformed.
 * The weights are only read as bytes; the worker parses them and names model.safetensors if it fails.
 */
import { Tokenizer } from './index.js';
import type { ModelFiles } from './demo-compute.js';

/** A file with its path inside what was picked or dropped ('folder/config.json'). */
export interface PickedFile {
  path: string;
  file: File;
}

export interface ModelFolder {
  /** The folder's name, for the page. */
  name: string;
  files: ModelFiles;
  tokenizer: Tokenizer;
}

const LAYOUT = 'a model folder holds config.json, model.safetensors and tokenizer.json (and tokenizer_config.json, special_tokens_map.json)';

/** The files an `<input type=file webkitdirectory>` holds. */
export const inputFiles = (input: HTMLInputElement): PickedFile[] =>
  Array.from(input.files ?? [], (file) => ({ path: file.webkitRelativePath || file.name, file }));

/**
 * The files of what was dropped: folders are walked. The entries are taken before the first await,
 * because a drop event's DataTransfer is emptied once its handler returns.
 */
export async function droppedFiles(data: DataTransfer): Promise<PickedFile[]> {
  const entries: FileSystemEntry[] = [];
  const out: PickedFile[] = [];
  for (const item of Array.from(data.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry();
    const file = entry ? null : item.getAsFile(); // files made by a script have no entry
    if (entry) entries.push(entry);
    else if (file) out.push({ path: file.name, file });
  }
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    const path = prefix + entry.name;
    if (entry.isFile) {
      out.push({ path, file: await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)) });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries answers in batches, then with an empty one
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${path}/`);
      }
    }
  };
  for (const entry of entries) await walk(entry, '');
  return out;
}

/** Reads and checks a model folder's files; `named` names it (default: the picked folder's name). */
export async function readModelFolder(picked: readonly PickedFile[], named?: string): Promise<ModelFolder> {
  if (picked.length === 0) throw new Error(`no files were picked: ${LAYOUT}`);
  // By file name; the shallowest wins when a folder was dropped with subfolders.
  const depth = (p: PickedFile) => p.path.split('/').length;
  const byName = new Map<string, File>();
  for (const p of [...picked].sort((a, b) => depth(a) - depth(b))) if (!byName.has(p.file.name)) byName.set(p.file.name, p.file);
  const name = named ?? (depth(picked[0]) > 1 ? picked[0].path.split('/')[0] : 'the picked files');

  const missing = ['config.json', 'model.safetensors', 'tokenizer.json'].filter((n) => !byName.has(n));
  if (missing.length > 0) {
    const bin = missing.includes('model.safetensors') && byName.has('pytorch_model.bin') ? ' (the page reads safetensors weights, not pytorch_model.bin)' : '';
    throw new Error(`no ${missing.join(', ')} in ${name}${bin}: ${LAYOUT}`);
  }
  const json = async (file: string): Promise<Record<string, unknown> | undefined> => {
    const f = byName.get(file);
    if (!f) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(await f.text());
    } catch (e) {
      throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${file} must hold a JSON object`);
    return value as Record<string, unknown>;
  };
  const config = (await json('config.json'))!;
  let tokenizer: Tokenizer;
  try {
    tokenizer = Tokenizer.fromJSON((await json('tokenizer.json'))!, await json('tokenizer_config.json'), await json('special_tokens_map.json'));
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(/tokenizer|special_tokens/.test(message) ? message : `tokenizer.json: ${message}`);
  }
  const vocab = config.vocab_size;
  if (typeof vocab === 'number' && tokenizer.vocabSize > vocab) {
    throw new Error(`tokenizer.json has ${tokenizer.vocabSize} tokens but config.json's vocab_size is ${vocab}: they are not from the same model`);
  }
  const weights = new Uint8Array(await byName.get('model.safetensors')!.arrayBuffer());
  return { name, files: { config, weights }, tokenizer };
}
