/**
 * Safetensors files: the format (safetensors-format.ts, bytes only, browser-safe) plus reading and
 * writing files with Node's fs.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomicSync } from './atomic.js';
import { parseSafetensors, serializeSafetensors, type SafetensorsFile, type TensorToWrite } from './safetensors-format.js';

export * from './safetensors-format.js';

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return parseSafetensors(await readFile(path), path);
}

export function readSafetensorsSync(path: string): SafetensorsFile {
  return parseSafetensors(readFileSync(path), path);
}

/** Writes atomically (see atomic.ts): a kill leaves the old file or the new one. */
export function writeSafetensorsSync(path: string, tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): void {
  writeFileAtomicSync(path, serializeSafetensors(tensors, metadata));
}
