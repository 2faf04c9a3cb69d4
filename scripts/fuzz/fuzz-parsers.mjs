#!/usr/bin/env node
/**
 * Fuzzes the two weight-file parsers, parseSafetensors and parseTorchCheckpoint (zip + pickle),
 * with random bytes, truncations, byte flips, splices and structure-aware edits (safetensors
 * header JSON and length; zip header fields; pickle opcodes) of the committed fixtures.
 *
 *   npx tsc -p . && node scripts/fuzz/fuzz-parsers.mjs [--seconds 120] [--timeout-ms 2000] [--seed 1]
 *
 * Each parser runs in its own worker thread, both at once, for the given seconds; the main thread
 * watches a shared case counter and calls a case that runs past --timeout-ms a hang (the worker is
 * stopped and its input saved). Prints one JSON line per parser:
 *   {"parser","cases","ok","errors","crashes","hangs","unnamed","wrapped","max_ms","seconds"}
 * crashes: anything thrown that is not an Error; unnamed: an Error whose message does not start with
 * the file's name; wrapped: pytorch errors that only the "malformed checkpoint" safety net caught.
 * Failing inputs go to the system temp folder. Exit 1 on any crash, hang or unnamed error.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE = 'fuzz-input';
const MAX_INPUT = 4 * 2 ** 20;

if (isMainThread) await main();
else await fuzz(workerData);

async function main() {
  const arg = (name, fallback) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? Number(process.argv[at + 1]) : fallback;
  };
  const seconds = arg('--seconds', 120);
  const timeoutMs = arg('--timeout-ms', 2000);
  const seed = arg('--seed', 1);
  if (!existsSync(join(root, 'dist/src/io/pytorch.js'))) {
    console.error('fuzz-parsers: dist/src/io/pytorch.js is missing; build first (npx tsc -p .)');
    process.exit(2);
  }
  const runs = ['safetensors', 'pytorch'].map((parser, i) => watch(parser, seconds, timeoutMs, seed + i));
  const tallies = await Promise.all(runs);
  for (const t of tallies) console.log(JSON.stringify(t));
  process.exitCode = tallies.some((t) => t.crashes + t.hangs + t.unnamed > 0) ? 1 : 0;
}

/** Runs one parser's worker and watches it for hangs. */
function watch(parser, seconds, timeoutMs, seed) {
  const counter = new Int32Array(new SharedArrayBuffer(8)); // [cases started, current input length]
  const input = new Uint8Array(new SharedArrayBuffer(MAX_INPUT));
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { parser, seconds, seed, counter, input } });
  return new Promise((done, failed) => {
    let last = -1;
    let since = performance.now();
    const timer = setInterval(() => {
      const now = Atomics.load(counter, 0);
      if (now !== last) [last, since] = [now, performance.now()];
      else if (performance.now() - since > timeoutMs) {
        clearInterval(timer);
        const file = join(tmpdir(), `fuzz-hang-${parser}-${now}.bin`);
        writeFileSync(file, input.slice(0, Atomics.load(counter, 1)));
        console.error(`${parser}: case ${now} ran past ${timeoutMs} ms; input saved to ${file}`);
        worker.terminate();
        done({ parser, cases: now, ok: null, errors: null, crashes: 0, hangs: 1, unnamed: 0, wrapped: 0, max_ms: Math.round(performance.now() - since), seconds });
      }
    }, 50);
    worker.on('message', (tally) => (clearInterval(timer), done(tally)));
    worker.on('error', (e) => (clearInterval(timer), failed(e)));
  });
}

async function fuzz({ parser, seconds, seed, counter, input }) {
  const { parseSafetensors } = await import('../../dist/src/io/safetensors.js');
  const { parseTorchCheckpoint } = await import('../../dist/src/io/pytorch.js');
  const { readZip } = await import('../../dist/src/io/zip.js');
  const fixtures = join(root, 'test/fixtures');
  const models = readdirSync(join(fixtures, 'models')).map((d) => join(fixtures, 'models', d));
  const read = (files) => files.filter(existsSync).map((f) => new Uint8Array(readFileSync(f)));
  const seeds = parser === 'safetensors'
    ? read([...models.flatMap((d) => [join(d, 'model.safetensors'), join(d, 'expected.safetensors')]),
      ...readdirSync(join(fixtures, 'attention')).map((f) => join(fixtures, 'attention', f))])
    : read([...models.map((d) => join(d, 'pytorch_model.bin')),
      ...['views.bin', 'views_proto4.bin', 'big_endian.bin'].map((f) => join(fixtures, 'pytorch', f))]);
  const parse = parser === 'safetensors' ? (b) => parseSafetensors(b, SOURCE) : (b) => parseTorchCheckpoint(b, SOURCE);

  // xorshift32: reproducible from --seed
  let state = (seed * 0x9e3779b9) >>> 0 || 1;
  const rand = () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state / 2 ** 32;
  };
  const below = (n) => Math.floor(rand() * n);
  const pick = (xs) => xs[below(xs.length)];
  const interesting = (old, max) => pick([0, 1, max, max - 1, 0x7f, 0x80, 0x7fff, 0x8000, old + 1, old - 1, old * 2, below(max + 1)]);

  // Where the structure is: safetensors header JSON; zip records and each pickle.
  const sites = seeds.map((s) => {
    if (parser === 'safetensors') return { json: [8, 8 + Number(new DataView(s.buffer, s.byteOffset).getBigUint64(0, true))] };
    const records = [];
    for (let i = 0; i + 4 <= s.length; i++) if (s[i] === 0x50 && s[i + 1] === 0x4b && s[i + 2] <= 7 && s[i + 3] <= 8) records.push(i);
    const pkl = [...readZip(s, 'seed').entries()].find(([n]) => n.endsWith('data.pkl'))[1];
    return { records, pickle: [pkl.byteOffset - s.byteOffset, pkl.byteOffset - s.byteOffset + pkl.length] };
  });

  function mutate() {
    const i = below(seeds.length);
    const seed = seeds[i];
    const site = sites[i];
    const r = rand();
    if (r < 0.05) return Uint8Array.from({ length: below(1024) }, () => below(256));
    if (r < 0.2) return seed.slice(0, below(seed.length + 1));
    if (r < 0.25) { // splice two seeds
      const other = pick(seeds);
      const a = below(seed.length + 1);
      const b = below(other.length + 1);
      const out = new Uint8Array(a + other.length - b);
      out.set(seed.subarray(0, a));
      out.set(other.subarray(b), a);
      return out;
    }
    const bytes = seed.slice();
    const view = new DataView(bytes.buffer);
    if (r < 0.45) {
      for (let n = 1 + below(8); n > 0; n--) bytes[below(bytes.length)] = below(256);
      return bytes;
    }
    if (parser === 'safetensors') {
      const [begin, end] = site.json;
      if (r < 0.55) { // the header length
        view.setBigUint64(0, BigInt(interesting(end - 8, 2 ** 31)), true);
        return bytes;
      }
      const text = new TextDecoder().decode(bytes.subarray(begin, end));
      let edited = text;
      const edits = [
        () => edited.replace(/\d+/g, (m) => (rand() < 0.1 ? String(interesting(Number(m), 2 ** 32)) : m)),
        () => edited.replace(/"(F32|I64|I32|F16|BF16|U8)"/, `"${pick(['F32', 'I64', 'BOOL', 'F8_E4M3', 'X', ''])}"`),
        () => edited.replace(/\[[\d, ]*\]/, pick(['[]', '[1]', '[-1]', '[1.5]', '"a"', 'null', '[0, 0]', '[9007199254740993]'])),
        () => { const at = below(edited.length); return edited.slice(0, at) + pick(['{', '}', '"', ',', ':', '[', ']', '\\u0000', '0']) + edited.slice(at + below(2)); },
      ];
      for (let n = 1 + below(3); n > 0; n--) edited = pick(edits)();
      const encoded = new TextEncoder().encode(edited);
      const out = new Uint8Array(8 + encoded.length + (bytes.length - end));
      new DataView(out.buffer).setBigUint64(0, BigInt(rand() < 0.9 ? encoded.length : text.length), true);
      out.set(encoded, 8);
      out.set(bytes.subarray(end), 8 + encoded.length);
      return out;
    }
    if (r < 0.7 && site.records.length) { // a zip header field
      const at = pick(site.records) + 4 + 2 * below(21);
      if (at + 4 <= bytes.length && rand() < 0.5) view.setUint32(at, interesting(view.getUint32(at, true), 0xffffffff) >>> 0, true);
      else if (at + 2 <= bytes.length) view.setUint16(at, interesting(view.getUint16(at, true), 0xffff) & 0xffff, true);
      return bytes;
    }
    // the pickle: flip its bytes, or drop in opcodes
    const [begin, end] = site.pickle;
    const ops = [0x80, 0x95, 0x2e, 0x28, 0x30, 0x31, 0x32, 0x4e, 0x4a, 0x4b, 0x8a, 0x8b, 0x58, 0x8c, 0x8d, 0x42, 0x74, 0x85, 0x86, 0x87, 0x5d, 0x6c, 0x61, 0x65, 0x7d, 0x64, 0x73, 0x75, 0x71, 0x72, 0x94, 0x68, 0x6a, 0x63, 0x93, 0x52, 0x81, 0x92, 0x62, 0x51];
    for (let n = 1 + below(4); n > 0; n--) bytes[begin + below(end - begin)] = rand() < 0.5 ? pick(ops) : below(256);
    return bytes;
  }

  const tally = { parser, cases: 0, ok: 0, errors: 0, crashes: 0, hangs: 0, unnamed: 0, wrapped: 0, max_ms: 0, seconds };
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    let bytes = mutate();
    if (bytes.length > MAX_INPUT) bytes = bytes.subarray(0, MAX_INPUT);
    input.set(bytes);
    Atomics.store(counter, 1, bytes.length);
    Atomics.add(counter, 0, 1);
    const t0 = performance.now();
    try {
      parse(bytes);
      tally.ok++;
    } catch (e) {
      if (!(e instanceof Error)) {
        tally.crashes++;
        save('crash', bytes, String(e));
      } else if (!e.message.startsWith(`${SOURCE}: `)) {
        tally.unnamed++;
        save('unnamed', bytes, e.stack);
      } else {
        tally.errors++;
        if (e.message.includes('malformed checkpoint (')) tally.wrapped++;
      }
    }
    tally.max_ms = Math.max(tally.max_ms, Math.round((performance.now() - t0) * 100) / 100);
    tally.cases++;
  }
  parentPort.postMessage(tally);

  function save(kind, bytes, why) {
    const file = join(tmpdir(), `fuzz-${kind}-${parser}-${tally.cases}.bin`);
    writeFileSync(file, bytes);
    console.error(`${parser}: ${kind} on case ${tally.cases} (input saved to ${file}): ${why}`);
  }
}
