/** The repositories the Hub tests serve, made from the committed model fixtures. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, serializeSafetensors, toFloat32 } from '../src/io/safetensors-format.js';
import { folderFiles, HubServer } from './hub-server.js';

export const FIXTURES = fileURLToPath(new URL('../../test/fixtures/models/', import.meta.url));
export const COMMIT = 'a'.repeat(40);
export const TOKEN = 'hf_test_token';

const notExpected = (n: string) => n !== 'expected.safetensors';

/** A folder's model.safetensors as two shards and an index, as save_pretrained shards big models; `keep`: the other files served. */
export function sharded(dir: string, keep: (n: string) => boolean = (n) => n === 'config.json'): Map<string, Uint8Array> {
  const { tensors } = parseSafetensors(readFileSync(join(dir, 'model.safetensors')));
  const names = [...tensors.keys()];
  const half = Math.ceil(names.length / 2);
  const files = folderFiles(dir, keep);
  const weightMap: Record<string, string> = {};
  names.forEach((name, i) => (weightMap[name] = i < half ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors'));
  for (const shard of new Set(Object.values(weightMap))) {
    const part = Object.fromEntries(names.filter((n) => weightMap[n] === shard).map((n) => [n, { dtype: 'F32' as const, shape: tensors.get(n)!.shape, data: toFloat32(tensors.get(n)!, n) }]));
    files.set(shard, serializeSafetensors(part, { format: 'pt' }));
  }
  files.set('model.safetensors.index.json', new TextEncoder().encode(JSON.stringify({ metadata: {}, weight_map: weightMap })));
  return files;
}

/**
 * test-org/mlm: mlm-dense-tied, safetensors only, with its tokenizer; test-org/seqcls-bin:
 * seqcls-single, pytorch_model.bin only; test-org/sharded: base-dense in two safetensors shards;
 * test-org/verify: base-dense as committed (both weight formats, expected.safetensors);
 * test-org/gated: like mlm, for TOKEN holders only.
 */
export async function startHub(): Promise<HubServer> {
  const hub = new HubServer();
  const mlm = folderFiles(join(FIXTURES, 'mlm-dense-tied'), (n) => notExpected(n) && n !== 'pytorch_model.bin');
  hub.addRepo('test-org/mlm', { files: mlm, commit: COMMIT, branches: ['v1.0'] });
  hub.addRepo('test-org/seqcls-bin', { files: folderFiles(join(FIXTURES, 'seqcls-single'), (n) => notExpected(n) && n !== 'model.safetensors'), commit: 'b'.repeat(40) });
  hub.addRepo('test-org/sharded', { files: sharded(join(FIXTURES, 'base-dense')), commit: 'c'.repeat(40) });
  hub.addRepo('test-org/verify', { files: folderFiles(join(FIXTURES, 'base-dense')), commit: 'e'.repeat(40) });
  hub.addRepo('test-org/gated', { files: mlm, commit: 'd'.repeat(40), token: TOKEN });
  return hub.start();
}

const bin = fileURLToPath(new URL('../../bin/nystromformer.js', import.meta.url));

/** Runs the CLI without blocking this process, which serves the Hub. */
export function cli(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
