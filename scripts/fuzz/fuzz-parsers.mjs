#!/usr/bin/env node
/**
 * Fuzzes the two weight-file parsers (safetensors and PyTorch zip + pickle) with random bytes,
 * truncations, byte flips and header edits of the committed fixtures, and prints one JSON line per
 * parser: cases run, how many parsed, how many gave a clear error naming the file, how many were
 * wrapped internal errors ("malformed"), crashes (anything thrown that is not an Error) and the
 * slowest case. Exit 1 on any crash.
 *
 *   npm run build && node scripts/fuzz/fuzz-parsers.mjs [--seconds 120]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSafetensors } from '../../dist/src/io/safetensors.js';
import { parseTorchCheckpoint } from '../../dist/src/io/pytorch.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const at = process.argv.indexOf('--seconds');
const seconds = at > 0 ? Number(process.argv[at + 1]) : 120;
const models = join(root, 'test/fixtures/models');
const seeds = (name) => readdirSync(models).map((d) => readFileSync(join(models, d, name)));
let state = 0x9e3779b9;
const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

function mutate(seed) {
  const r = rand();
  if (r < 0.1) return Uint8Array.from({ length: Math.floor(rand() * 512) }, () => Math.floor(rand() * 256));
  if (r < 0.35) return seed.subarray(0, Math.floor(rand() * seed.length));
  const bytes = Uint8Array.from(seed);
  if (r < 0.5) {
    // edit a digit in the first kilobyte (safetensors header sizes and offsets, zip fields)
    const digits = [];
    for (let i = 0; i < Math.min(bytes.length, 2048); i++) if (bytes[i] >= 0x30 && bytes[i] <= 0x39) digits.push(i);
    if (digits.length) bytes[pick(digits)] = 0x30 + Math.floor(rand() * 10);
    return bytes;
  }
  for (let n = 1 + Math.floor(rand() * 8); n > 0; n--) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
  return bytes;
}

let crashes = 0;
for (const [parser, parse, files] of [
  ['safetensors', (b) => parseSafetensors(b, 'fuzz'), [...seeds('model.safetensors'), ...seeds('expected.safetensors')]],
  ['pytorch', (b) => parseTorchCheckpoint(b, 'fuzz'), seeds('pytorch_model.bin')],
]) {
  const tally = { parser, cases: 0, parsed: 0, clear_errors: 0, wrapped_errors: 0, crashes: 0, max_ms: 0 };
  const end = performance.now() + (seconds * 1000) / 2;
  while (performance.now() < end) {
    const input = mutate(pick(files));
    const t0 = performance.now();
    try {
      parse(input);
      tally.parsed++;
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith('fuzz')) {
        tally.crashes++;
        console.error(`${parser}: ${e instanceof Error ? e.stack : String(e)}`);
      } else if (e.message.includes('malformed checkpoint (')) tally.wrapped_errors++;
      else tally.clear_errors++;
    }
    tally.max_ms = Math.max(tally.max_ms, Math.round((performance.now() - t0) * 10) / 10);
    tally.cases++;
  }
  crashes += tally.crashes;
  console.log(JSON.stringify(tally));
}
process.exitCode = crashes > 0 ? 1 : 0;
