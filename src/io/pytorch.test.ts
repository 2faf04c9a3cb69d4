import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTorchCheckpoint, readTorchCheckpoint } from './pytorch.js';
import { readSafetensorsSync, toFloat32, type RawTensor } from './safetensors.js';

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures');
const views = join(fixtures, 'pytorch', 'views.bin');

/** Values of any dtype as float64 (integer and bool tensors included). */
function valuesOf(t: RawTensor): number[] {
  const v = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const n = t.shape.reduce((a, b) => a * b, 1);
  const read: Record<string, (i: number) => number> = {
    F64: (i) => v.getFloat64(i * 8, true), I64: (i) => Number(v.getBigInt64(i * 8, true)), I32: (i) => v.getInt32(i * 4, true),
    I8: (i) => v.getInt8(i), U8: (i) => v.getUint8(i), BOOL: (i) => v.getUint8(i),
  };
  return read[t.dtype] ? Array.from({ length: n }, (_, i) => read[t.dtype](i)) : Array.from(toFloat32(t));
}

test('every dtype, views with strides and offsets, shared storages, nested dicts: values as PyTorch saved them', async () => {
  const expected = JSON.parse(readFileSync(join(fixtures, 'pytorch', 'views.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;
  const tensors = await readTorchCheckpoint(views);
  assert.deepEqual([...tensors.keys()].sort(), Object.keys(expected).sort());
  for (const [name, want] of Object.entries(expected)) {
    const got = tensors.get(name)!;
    assert.deepEqual(got.shape, want.shape, `${name}: shape`);
    const values = valuesOf(got);
    want.values.forEach((w, i) => {
      const tol = got.dtype === 'F32' || got.dtype === 'F64' ? 0 : Math.abs(w) * 1e-7;
      assert.ok(Math.abs(values[i] - w) <= tol, `${name}[${i}]: ${values[i]} vs ${w}`);
    });
  }
  assert.equal(tensors.get('f16')!.dtype, 'F16');
  assert.equal(tensors.get('bf16')!.dtype, 'BF16');
});

test('a model checkpoint holds the same weights as its model.safetensors (tied decoder, int64 position ids)', () => {
  const dir = join(fixtures, 'models', 'mlm-nystrom-branch');
  const bin = parseTorchCheckpoint(readFileSync(join(dir, 'pytorch_model.bin')));
  const st = readSafetensorsSync(join(dir, 'model.safetensors')).tensors;
  for (const [name, t] of st) assert.deepEqual(toFloat32(bin.get(name)!), toFloat32(t), name);
  assert.deepEqual(toFloat32(bin.get('cls.predictions.decoder.weight')!), toFloat32(st.get('nystromformer.embeddings.word_embeddings.weight')!));
  assert.equal(bin.get('nystromformer.embeddings.position_ids')!.dtype, 'I64');
});

test('a pickle that names a global outside the allow-list is refused, naming it, before anything runs', () => {
  const evil = readFileSync(join(fixtures, 'pytorch', 'evil.bin'));
  assert.throws(() => parseTorchCheckpoint(evil, 'evil.bin'), /evil\.bin.*'os\.system', which a state dict never contains; refusing to load it \(nothing was executed\)/);
});

test('truncated files, lying headers and foreign formats give errors that name the file', () => {
  const good = readFileSync(views);
  for (let cut = 0; cut < good.length; cut += 37) {
    assert.throws(() => parseTorchCheckpoint(good.subarray(0, cut), 'cut.bin'), (e: unknown) => e instanceof Error && e.message.startsWith('cut.bin'), `cut at ${cut}`);
  }
  assert.throws(() => parseTorchCheckpoint(new Uint8Array([0x80, 0x02, 0x8a, 0x0a]), 'old.bin'), /old\.bin: this is the legacy \(pre-1\.6\) torch\.save format/);
  // A storage shorter than its tensor claims: shrink the first storage entry's recorded size.
  const st = readSafetensorsSync(join(fixtures, 'models', 'qa', 'model.safetensors'));
  assert.ok(st.tensors.size > 0);
  const lying = patchStorageSize(readFileSync(join(fixtures, 'models', 'qa', 'pytorch_model.bin')));
  assert.throws(() => parseTorchCheckpoint(lying, 'lying.bin'), /lying\.bin: (tensor '.*' of shape .* reaches element \d+ of a storage that holds \d+|entry)/);
});

test('fuzz: random bytes and random flips of a valid file only ever throw Errors', () => {
  const good = readFileSync(views);
  let state = 12345;
  const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const started = performance.now();
  let cases = 0;
  while (performance.now() - started < 1500) {
    const bytes = rand() < 0.2 ? Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)) : Uint8Array.from(good);
    for (let flips = 1 + Math.floor(rand() * 4); flips > 0 && bytes.length > 0; flips--) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
    try {
      parseTorchCheckpoint(bytes, 'fuzz.bin');
    } catch (e) {
      assert.ok(e instanceof Error && e.message.startsWith('fuzz.bin'), `not a clear Error: ${String(e)}`);
    }
    cases++;
  }
  assert.ok(cases > 100, `only ${cases} cases`);
});

/** The zip with its first data/ entry's sizes (central and local) cut to 4 bytes. */
function patchStorageSize(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  const v = new DataView(out.buffer);
  for (let at = out.length - 22; at >= 0; at--) {
    if (v.getUint32(at, true) !== 0x02014b50) continue;
    const nameLength = v.getUint16(at + 28, true);
    const name = new TextDecoder().decode(out.subarray(at + 46, at + 46 + nameLength));
    if (!/\/data\/\d+$/.test(name) || v.getUint32(at + 20, true) <= 4) continue;
    v.setUint32(at + 20, 4, true);
    v.setUint32(at + 24, 4, true);
    return out;
  }
  throw new Error('no storage entry to patch');
}
