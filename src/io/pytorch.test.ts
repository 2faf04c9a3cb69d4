import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unpickle } from './pickle.js';
import { parseTorchCheckpoint, readTorchCheckpoint } from './pytorch.js';
import { halfToFloat, readSafetensorsSync, toFloat32, type RawTensor } from './safetensors.js';
import { readZip } from './zip.js';

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures');
const fixture = (name: string) => readFileSync(join(fixtures, 'pytorch', name));

// ---- helpers: values, and zips and pickles built by hand ----

type Expected = Record<string, { dtype: string; shape: number[]; values: string[] }>;

/** Element i of a tensor: a number, or a decimal string for I64 (exact beyond 2^53). */
function element(t: RawTensor, i: number): number | string {
  const v = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  switch (t.dtype) {
    case 'F64': return v.getFloat64(8 * i, true);
    case 'F32': return v.getFloat32(4 * i, true);
    case 'F16': return halfToFloat(v.getUint16(2 * i, true));
    case 'BF16': return new Float32Array(new Uint32Array([v.getUint16(2 * i, true) << 16]).buffer)[0];
    case 'I64': return v.getBigInt64(8 * i, true).toString();
    case 'I32': return v.getInt32(4 * i, true);
    case 'I16': return v.getInt16(2 * i, true);
    case 'I8': return v.getInt8(i);
    case 'U8': case 'BOOL': return v.getUint8(i);
  }
}

/** Python's repr of a float, or an integer, as the fixture script wrote it. */
const fromRepr = (s: string) => ({ nan: NaN, inf: Infinity, '-inf': -Infinity } as Record<string, number>)[s] ?? Number(s);

function checkAgainst(tensors: Map<string, RawTensor>, expected: Expected, file: string) {
  assert.deepEqual([...tensors.keys()].sort(), Object.keys(expected).sort(), `${file}: names`);
  for (const [name, want] of Object.entries(expected)) {
    const got = tensors.get(name)!;
    const where = `${file}: ${name}`;
    assert.equal(got.dtype, want.dtype, `${where}: dtype`);
    assert.deepEqual(got.shape, want.shape, `${where}: shape`);
    const count = want.shape.reduce((a, b) => a * b, 1);
    assert.equal(want.values.length, count, `${where}: fixture`);
    assert.equal(got.data.length * want.values.length, count * got.data.length, `${where}: byte length`);
    want.values.forEach((w, i) => {
      const g = element(got, i);
      if (typeof g === 'string') assert.equal(g, w, `${where}[${i}]`);
      else assert.ok(Object.is(g, fromRepr(w)), `${where}[${i}]: ${g} vs ${w}`);
    });
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (b: Uint8Array) => {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

/** A one-disk zip of stored entries; `zip64` writes every size and offset through ZIP64 records. */
function makeZip(entries: [string, Uint8Array][], opts: { zip64?: boolean; method?: number } = {}): Uint8Array {
  const out: number[] = [];
  const le = (v: number | bigint, n: number) => {
    let x = BigInt(v);
    for (let i = 0; i < n; i++, x >>= 8n) out.push(Number(x & 0xffn));
  };
  const z64 = !!opts.zip64;
  const central: { name: Uint8Array; data: Uint8Array; offset: number }[] = [];
  for (const [n, data] of entries) {
    const name = new TextEncoder().encode(n);
    central.push({ name, data, offset: out.length });
    le(0x04034b50, 4); le(z64 ? 45 : 20, 2); le(0x800, 2); le(opts.method ?? 0, 2); le(0, 4); le(crc32(data), 4);
    le(z64 ? 0xffffffff : data.length, 4); le(z64 ? 0xffffffff : data.length, 4); le(name.length, 2); le(z64 ? 20 : 0, 2);
    out.push(...name);
    if (z64) (le(1, 2), le(16, 2), le(data.length, 8), le(data.length, 8));
    for (const b of data) out.push(b); // not push(...data): a large entry would overflow the call stack
  }
  const cdOffset = out.length;
  for (const { name, data, offset } of central) {
    le(0x02014b50, 4); le(z64 ? 45 : 20, 2); le(z64 ? 45 : 20, 2); le(0x800, 2); le(opts.method ?? 0, 2); le(0, 4); le(crc32(data), 4);
    le(z64 ? 0xffffffff : data.length, 4); le(z64 ? 0xffffffff : data.length, 4); le(name.length, 2); le(z64 ? 28 : 0, 2);
    le(0, 2); le(0, 2); le(0, 2); le(0, 4); le(z64 ? 0xffffffff : offset, 4);
    out.push(...name);
    if (z64) (le(1, 2), le(24, 2), le(data.length, 8), le(data.length, 8), le(offset, 8));
  }
  const cdSize = out.length - cdOffset;
  if (z64) {
    const record = out.length;
    le(0x06064b50, 4); le(44, 8); le(45, 2); le(45, 2); le(0, 4); le(0, 4);
    le(central.length, 8); le(central.length, 8); le(cdSize, 8); le(cdOffset, 8);
    le(0x07064b50, 4); le(0, 4); le(record, 8); le(1, 4);
  }
  le(0x06054b50, 4); le(0, 2); le(0, 2);
  le(z64 ? 0xffff : central.length, 2); le(z64 ? 0xffff : central.length, 2);
  le(z64 ? 0xffffffff : cdSize, 4); le(z64 ? 0xffffffff : cdOffset, 4); le(0, 2);
  return Uint8Array.from(out);
}

/** Pickle bytes from opcodes (strings of one character) and argument bytes. */
const enc = new TextEncoder();
const P = {
  bytes: (...parts: (string | number[] | Uint8Array)[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...enc.encode(p)] : [...p]))),
  str: (s: string) => { const b = enc.encode(s); return [0x58, ...u32(b.length), ...b]; }, // BINUNICODE
  int: (n: number) => [0x4a, ...new Uint8Array(new Int32Array([n]).buffer)], // BININT
  global: (module: string, name: string) => [...enc.encode(`c${module}\n${name}\n`)],
};
function u32(n: number) {
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
}
const tuple = (...items: number[][]) => [0x28, ...items.flat(), 0x74];

/** The pickle torch writes for one tensor: _rebuild_tensor_v2(storage(pid), offset, size, stride, False, OrderedDict()). */
function tensorPickle(t: { type?: string; key?: string; numel: number; offset?: number; size: number[]; stride: number[] }): number[] {
  const pid = tuple(P.str('storage'), P.global('torch', t.type ?? 'FloatStorage'), P.str(t.key ?? '0'), P.str('cpu'), P.int(t.numel));
  return [
    ...P.global('torch._utils', '_rebuild_tensor_v2'),
    ...tuple([...pid, 0x51], P.int(t.offset ?? 0), tuple(...t.size.map(P.int)), tuple(...t.stride.map(P.int)), [0x89],
      [...P.global('collections', 'OrderedDict'), 0x29, 0x52]),
    0x52,
  ];
}

/** A checkpoint holding {name: tensor, …} with the given pickled values and storages. */
function checkpoint(items: [string, number[]][], storages: Record<string, Uint8Array>, zip: { zip64?: boolean } = {}) {
  const pkl = P.bytes([0x80, 2, 0x7d, 0x28], ...items.flatMap(([k, v]) => [P.str(k), v]), 'u.');
  return makeZip([['archive/data.pkl', pkl], ...Object.entries(storages).map(([k, v]): [string, Uint8Array] => [`archive/data/${k}`, v])], zip);
}

const f32 = (...xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);
const throwsNamed = (fn: () => unknown, source: string, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, `not an Error: ${String(e)}`);
    assert.ok(e.message.startsWith(`${source}: `), `does not name ${source}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });

// ---- real torch.save files ----

test('torch 1.13 files: every dtype, views with strides and offsets, shared storages, nested dicts, protocols 2 and 4', async () => {
  const expected = JSON.parse(readFileSync(join(fixtures, 'pytorch', 'views.json'), 'utf8')) as Expected;
  for (const file of ['views.bin', 'views_proto4.bin']) {
    const bytes = fixture(file);
    const tensors = parseTorchCheckpoint(bytes, file);
    checkAgainst(tensors, expected, file);
    // contiguous tensors are views into the file; names sharing a storage share its bytes
    const [a, b] = [tensors.get('f32')!, tensors.get('same_storage')!];
    assert.equal(a.data.buffer, bytes.buffer, `${file}: f32 is a view`);
    assert.equal(a.data.byteOffset, b.data.byteOffset, `${file}: same_storage shares f32's bytes`);
    assert.equal(tensors.get('tied_a'), tensors.get('tied_b'), `${file}: a tensor pickled twice is read once`);
    assert.notEqual(tensors.get('transposed')!.data.buffer, bytes.buffer, `${file}: a transposed view is copied`);
    assert.deepEqual(toFloat32(tensors.get('i16')!), new Float32Array([-32768, 32767, 1, -1]), `${file}: I16 widens`);
  }
  checkAgainst(await readTorchCheckpoint(join(fixtures, 'pytorch', 'views.bin')), expected, 'readTorchCheckpoint');
});

test('a big-endian checkpoint (byteorder "big") comes back little-endian', () => {
  const expected = JSON.parse(readFileSync(join(fixtures, 'pytorch', 'big_endian.json'), 'utf8')) as Expected;
  checkAgainst(parseTorchCheckpoint(fixture('big_endian.bin'), 'big_endian.bin'), expected, 'big_endian.bin');
});

test('a model checkpoint holds the same weights as its model.safetensors (tied decoder, int64 position ids)', () => {
  const dir = join(fixtures, 'models', 'mlm-nystrom-branch');
  const bin = parseTorchCheckpoint(readFileSync(join(dir, 'pytorch_model.bin')));
  const st = readSafetensorsSync(join(dir, 'model.safetensors')).tensors;
  for (const [name, t] of st) assert.deepEqual(toFloat32(bin.get(name)!), toFloat32(t), name);
  assert.deepEqual(toFloat32(bin.get('cls.predictions.decoder.weight')!), toFloat32(st.get('nystromformer.embeddings.word_embeddings.weight')!));
  assert.equal(bin.get('nystromformer.embeddings.position_ids')!.dtype, 'I64');
});

// ---- refusing code ----

test('a pickle that names a global outside the allow-list is refused, naming it, before anything is called', () => {
  throwsNamed(() => parseTorchCheckpoint(fixture('evil.bin'), 'evil.bin'), 'evil.bin', /pickle refers to 'os\.system', which a state dict never contains; refusing to load it \(nothing was executed\)/);
  const refused: [string, number[]][] = [
    ['builtins.eval', [0x8c, 8, ...enc.encode('builtins'), 0x8c, 4, ...enc.encode('eval'), 0x93, ...P.str('1+1'), 0x85, 0x52]], // STACK_GLOBAL
    ['torch.storage._load_from_bytes', [...P.global('torch.storage', '_load_from_bytes'), 0x43, 1, 0x80, 0x85, 0x52]],
    ['__main__.MyTensor', [...P.global('torch._tensor', '_rebuild_from_type_v2'), ...P.global('__main__', 'MyTensor')]],
    ['subprocess.Popen', [...P.global('subprocess', 'Popen'), 0x29, 0x81]], // NEWOBJ
  ];
  for (const [name, ops] of refused) {
    throwsNamed(() => parseTorchCheckpoint(checkpoint([['x', ops]], {}), 'bad.bin'), 'bad.bin', new RegExp(`'${name.replace(/\./g, '\\.')}', which a state dict never contains`));
  }
  throwsNamed(() => parseTorchCheckpoint(checkpoint([['x', tensorPickle({ type: 'ComplexFloatStorage', numel: 1, size: [1], stride: [1] })]], { 0: f32(1, 2) }), 'c.bin'),
    'c.bin', /storage type 'torch\.ComplexFloatStorage', which is not supported \(supported: torch\.FloatStorage/);
  // an allowed global that is not a function cannot be called
  throwsNamed(() => parseTorchCheckpoint(checkpoint([['x', [...P.global('torch', 'FloatStorage'), 0x29, 0x52]]], {}), 's.bin'), 's.bin', /calls 'torch\.FloatStorage', which is not callable/);
});

test('tensors with Python attributes, parameters and torch.Size arguments (newer torch writes these)', () => {
  const inner = tensorPickle({ numel: 2, size: [2], stride: [1] });
  // _rebuild_from_type_v2(_rebuild_tensor_v2, torch.Tensor, (args…), {'note': 1}): drop the state, keep the tensor
  const args = inner.slice(P.global('torch._utils', '_rebuild_tensor_v2').length, -1);
  const attributed = [...P.global('torch._tensor', '_rebuild_from_type_v2'),
    ...tuple(P.global('torch._utils', '_rebuild_tensor_v2'), P.global('torch', 'Tensor'), args, [0x7d, ...P.str('note'), ...P.int(1), 0x73]), 0x52];
  const parameter = [...P.global('torch._utils', '_rebuild_parameter'), ...tuple(inner, [0x88], [...P.global('collections', 'OrderedDict'), 0x29, 0x52]), 0x52];
  const sized = [...P.global('torch._utils', '_rebuild_tensor_v2'),
    ...tuple([...tuple(P.str('storage'), P.global('torch', 'FloatStorage'), P.str('0'), P.str('cpu'), P.int(2)), 0x51], P.int(0),
      [...P.global('torch', 'Size'), ...tuple(tuple(P.int(2))), 0x52], tuple(P.int(1)), [0x89], [0x7d]), 0x52];
  const got = parseTorchCheckpoint(checkpoint([['a', attributed], ['p', parameter], ['s', sized]], { 0: f32(1.5, -2) }), 'new.bin');
  for (const name of ['a', 'p', 's']) assert.deepEqual(toFloat32(got.get(name)!), new Float32Array([1.5, -2]), name);
});

// ---- malformed files ----

test('the legacy format, TorchScript archives and non-dict checkpoints are refused with a clear message', () => {
  throwsNamed(() => parseTorchCheckpoint(fixture('legacy.bin'), 'legacy.bin'), 'legacy.bin', /legacy torch\.save format .* not supported; convert it with PyTorch ≥ 1\.6: torch\.save\(torch\.load\(f\), f2\)/);
  throwsNamed(() => parseTorchCheckpoint(makeZip([['m/constants.pkl', P.bytes([0x80, 2, 0x4e, 0x2e])]]), 'ts.pt'), 'ts.pt', /no <archive>\/data\.pkl.*TorchScript/);
  const bare = makeZip([['archive/data.pkl', P.bytes([0x80, 2], tensorPickle({ numel: 1, size: [], stride: [] }), '.')], ['archive/data/0', f32(1)]]);
  throwsNamed(() => parseTorchCheckpoint(bare, 't.bin'), 't.bin', /holds a single tensor, not a dict of tensors/);
  throwsNamed(() => parseTorchCheckpoint(new TextEncoder().encode('{"not": "a zip"}'), 'j.bin'), 'j.bin', /not a zip archive/);
  throwsNamed(() => parseTorchCheckpoint(new Uint8Array(0), 'empty.bin'), 'empty.bin', /not a zip archive/);
});

test('every truncation of a real file gives an Error that names the file', () => {
  for (const file of ['views.bin', 'views_proto4.bin']) {
    const good = fixture(file);
    for (let cut = 0; cut < good.length; cut++) {
      assert.throws(() => parseTorchCheckpoint(good.subarray(0, cut), 'cut.bin'), (e: unknown) => e instanceof Error && e.message.startsWith('cut.bin: '), `${file} cut at ${cut}`);
    }
  }
  // a pickle cut short inside a valid zip: each cut point is a clear 'truncated pickle' or stack error
  const pkl = readZip(fixture('views.bin'), 'views.bin').get('archive/data.pkl')!;
  for (let cut = 0; cut < pkl.length; cut += 3) {
    throwsNamed(() => unpickle(pkl.subarray(0, cut), { globals: new Map(), persistentLoad: () => null }, 'p'), 'p', /truncated pickle|refers to|stack underflow|MARK/);
  }
});

test('headers that lie about storages and views are refused, naming the tensor', () => {
  const one = (t: Parameters<typeof tensorPickle>[0], storages: Record<string, Uint8Array>) => () => parseTorchCheckpoint(checkpoint([['w', tensorPickle(t)]], storages), 'lie.bin');
  const twelve = { 0: f32(...Array.from({ length: 12 }, (_, i) => i)) };
  // the honest baseline, then each lie
  assert.deepEqual(toFloat32(one({ numel: 12, offset: 1, size: [2, 3], stride: [1, 2] }, twelve)().get('w')!), new Float32Array([1, 3, 5, 2, 4, 6]));
  throwsNamed(one({ numel: 12, size: [4, 4], stride: [4, 1] }, twelve), 'lie.bin', /tensor 'w' \(F32 \[4, 4\], storage '0' of 12 elements, offset 0, strides \[4, 1\]\) reaches element 15, beyond its storage/);
  throwsNamed(one({ numel: 12, offset: 10, size: [3], stride: [1] }, twelve), 'lie.bin', /offset 10.* reaches element 12/);
  throwsNamed(one({ numel: 12, size: [2, 2], stride: [11, 1] }, twelve), 'lie.bin', /reaches element 12/);
  throwsNamed(one({ numel: 13, size: [12], stride: [1] }, twelve), 'lie.bin', /entry 'archive\/data\/0' holds 48 bytes but its storage is 13 × F32 \(52 bytes\)/);
  throwsNamed(one({ numel: 12, key: '7', size: [12], stride: [1] }, twelve), 'lie.bin', /storage '7' is missing from the archive/);
  throwsNamed(one({ numel: 12, size: [12], stride: [1, 1] }, twelve), 'lie.bin', /size \[12\] and stride \[1,1\] differ in length/);
  throwsNamed(one({ numel: 12, size: [-1], stride: [1] }, twelve), 'lie.bin', /size a tuple of 1 is not a tuple of non-negative integers/);
  throwsNamed(one({ numel: 12, size: [2 ** 30, 2 ** 30, 2 ** 30], stride: [2 ** 30, 2 ** 30, 2 ** 30] }, twelve), 'lie.bin', /has more than 2\^53 elements/);
  throwsNamed(one({ numel: 12, size: [2 ** 30, 2 ** 20], stride: [2 ** 30, 2 ** 30] }, twelve), 'lie.bin', /reaches element ≥ 2\^53, beyond its storage/);
  // stride 0 expands a tiny storage; beyond a budget tied to the file's size that is refused, not allocated
  throwsNamed(one({ numel: 12, size: [2 ** 30, 2], stride: [0, 1] }, twelve), 'lie.bin', /copying it to row-major order needs 8589934592 bytes/);
  assert.deepEqual(toFloat32(one({ numel: 12, size: [3, 2], stride: [0, 1] }, twelve)().get('w')!), new Float32Array([0, 1, 0, 1, 0, 1]));
  // one storage named with two dtypes
  const two = checkpoint([['a', tensorPickle({ numel: 12, size: [1], stride: [1] })], ['b', tensorPickle({ type: 'IntStorage', numel: 12, size: [1], stride: [1] })]], twelve);
  throwsNamed(() => parseTorchCheckpoint(two, 'two.bin'), 'two.bin', /storage '0' is named as 12 × F32 and as 12 × I32/);
});

test('zip archives torch never writes: compressed, inconsistent, ZIP64', () => {
  throwsNamed(() => parseTorchCheckpoint(fixture('deflated.bin'), 'deflated.bin'), 'deflated.bin', /entry 'archive\/data\.pkl' is compressed \(method 8, deflate\); only stored entries/);
  const entries: [string, Uint8Array][] = [['archive/data.pkl', P.bytes([0x80, 2, 0x7d], P.str('w'), tensorPickle({ numel: 2, size: [2], stride: [1] }), 's.')], ['archive/data/0', f32(3, 4)]];
  for (const zip64 of [false, true]) {
    const got = parseTorchCheckpoint(makeZip(entries, { zip64 }), 'z.bin');
    assert.deepEqual(toFloat32(got.get('w')!), new Float32Array([3, 4]), `zip64 ${zip64}`);
  }
  throwsNamed(() => readZip(makeZip(entries, { method: 93 }), 'zstd.zip'), 'zstd.zip', /entry 'archive\/data\.pkl' is compressed \(method 93, zstd\)/);
  // a local header naming a different entry
  const renamed = makeZip(entries);
  renamed[30 + 'archive/data.'.length] = 'q'.charCodeAt(0);
  throwsNamed(() => readZip(renamed, 'renamed.zip'), 'renamed.zip', /entry 'archive\/data\.pkl': the local header at offset 0 names a different entry/);
  // the central directory said to lie beyond the file
  const far = makeZip(entries);
  new DataView(far.buffer).setUint32(far.length - 6, far.length, true);
  throwsNamed(() => readZip(far, 'far.zip'), 'far.zip', /central directory \(\d+ bytes at offset \d+\) runs past/);
  // ZIP64 sizes without their extra field
  const noExtra = makeZip(entries, { zip64: true });
  const v = new DataView(noExtra.buffer);
  for (let at = 0; at + 4 <= noExtra.length; at++) if (v.getUint32(at, true) === 0x02014b50) v.setUint16(at + 46 + v.getUint16(at + 28, true), 0x9999, true);
  throwsNamed(() => readZip(noExtra, 'z64.zip'), 'z64.zip', /defer to a ZIP64 extra field that is missing/);
  throwsNamed(() => readZip(makeZip([entries[0], entries[0]]), 'dup.zip'), 'dup.zip', /entry 'archive\/data\.pkl' appears twice/);
  // a stored entry's data that runs into the central directory
  const long = makeZip(entries);
  const lv = new DataView(long.buffer);
  const cd = lv.getUint32(long.length - 6, true);
  lv.setUint32(cd + 20, 5000, true);
  lv.setUint32(cd + 24, 5000, true);
  lv.setUint32(18, 5000, true); // and the local header agrees
  lv.setUint32(22, 5000, true);
  throwsNamed(() => readZip(long, 'long.zip'), 'long.zip', /entry 'archive\/data\.pkl': 5000 data bytes at offset \d+ run past the central directory/);
});

test('pickles that misuse opcodes: unknown, memo misses, underflow, cycles, blow-ups', () => {
  const env = { globals: new Map(), persistentLoad: () => null };
  throwsNamed(() => unpickle(P.bytes([0x80, 2, 0x7d, 0x49]), env, 'op'), 'op', /unsupported pickle opcode 0x49 at pickle offset 3/);
  throwsNamed(() => unpickle(P.bytes([0x80, 6]), env, 'proto'), 'proto', /pickle protocol 6 is newer than 5/);
  throwsNamed(() => unpickle(P.bytes([0x68, 4, 0x2e]), env, 'memo'), 'memo', /reads memo entry 4, which was never stored/);
  throwsNamed(() => unpickle(P.bytes([0x28, 0x52]), env, 'under'), 'under', /stack underflow at opcode 0x52 at pickle offset 1/);
  throwsNamed(() => unpickle(P.bytes([0x75]), env, 'mark'), 'mark', /needs a MARK and there is none/);
  throwsNamed(() => unpickle(P.bytes([0x4e]), env, 'stop'), 'stop', /ends at offset 1 without a STOP/);
  throwsNamed(() => unpickle(P.bytes([0x8a, 100]), env, 'long'), 'long', /an integer of 100 bytes/);
  throwsNamed(() => unpickle(P.bytes([0x95, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), env, 'frame'), 'frame', /truncated pickle/);
  assert.deepEqual(unpickle(P.bytes([0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x2e]), env, 'big'), -(2n ** 63n));
  assert.equal(unpickle(P.bytes([0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x2e]), env, 'float'), 1.5);
  // a dict that contains itself
  const cyclic = P.bytes([0x80, 2, 0x7d, 0x71, 0], P.str('me'), [0x68, 0, 0x73, 0x2e]);
  throwsNamed(() => parseTorchCheckpoint(makeZip([['a/data.pkl', cyclic]]), 'cyc.bin'), 'cyc.bin', /dict 'me' contains itself/);
  // 30 levels of a dict whose two keys hold the same child: 2^30 paths from a few hundred bytes
  // each level: EMPTY_DICT BINPUT i MARK 'a' BINGET i-1 'b' BINGET i-1 SETITEMS
  const bomb: number[] = [0x80, 2, 0x7d, 0x71, 0];
  for (let i = 1; i <= 30; i++) bomb.push(0x7d, 0x71, i, 0x28, ...P.str('a'), 0x68, i - 1, ...P.str('b'), 0x68, i - 1, 0x75);
  bomb.push(0x2e);
  const started = performance.now();
  throwsNamed(() => parseTorchCheckpoint(makeZip([['a/data.pkl', Uint8Array.from(bomb)]]), 'bomb.bin'), 'bomb.bin', /share sub-dicts so often/);
  assert.ok(performance.now() - started < 1000, 'the shared-dict bomb is refused quickly');
});

test('pickles built to exhaust memory are refused quickly, naming the limit: MARK, memo, stack, object and tensor floods', () => {
  const env = { globals: new Map(), persistentLoad: () => null };
  /** PROTO 2, `prefix`, `unit` repeated, STOP: the shape of a small file that used to cost gigabytes. */
  const flood = (prefix: number[], unit: number[], times: number) => {
    const out = new Uint8Array(2 + prefix.length + unit.length * times + 1);
    out.set([0x80, 2, ...prefix]);
    for (let i = 0, at = 2 + prefix.length; i < times; i++, at += unit.length) out.set(unit, at);
    out[out.length - 1] = 0x2e;
    return out;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['marks.pkl', flood([], [0x28], 200_000), /MARKs nested more than 1000 deep at pickle offset 1002/],
    ['memo.pkl', flood([0x4e], [0x94], 200_000), /more than 70764 memo entries \(one per 3 bytes of a 200004-byte pickle/],
    ['stack.pkl', flood([], [0x4e], 1_100_000), /the pickle stack holds more than 1048576 items/],
    ['dicts.pkl', flood([0x5d], [0x7d, 0x61], 300_000), /builds more than 204097 objects \(one per 3 bytes of a 600004-byte pickle/],
  ];
  for (const [name, bytes, pattern] of cases) {
    const started = performance.now();
    throwsNamed(() => unpickle(bytes, env, name), name, pattern);
    assert.ok(performance.now() - started < 1000, `${name} is refused quickly`);
  }
  // 140,000 tensors, each a REDUCE of two memoized arguments (10 bytes apiece), under int keys
  const head = [...P.global('torch._utils', '_rebuild_tensor_v2'), 0x71, 1, 0x30];
  const args = tensorPickle({ numel: 1, size: [1], stride: [1] }).slice(P.global('torch._utils', '_rebuild_tensor_v2').length, -1);
  const many = P.bytes([0x80, 2], head, args, [0x71, 2, 0x30, 0x7d, 0x28], flood([], [...P.int(0), 0x68, 1, 0x68, 2, 0x52], 140_000).subarray(2, -1), 'u.');
  const started = performance.now();
  throwsNamed(() => parseTorchCheckpoint(makeZip([['a/data.pkl', many], ['a/data/0', f32(1)]]), 'many.bin'), 'many.bin',
    /more than 131072 tensors/);
  assert.ok(performance.now() - started < 2000, 'the tensor flood is refused quickly');
});

test('fuzz: random bytes, flips and truncations of valid files only ever throw Errors that name the file', () => {
  const seeds = [fixture('views.bin'), fixture('views_proto4.bin'), fixture('big_endian.bin')];
  let state = 12345;
  const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const started = performance.now();
  let cases = 0;
  let parsed = 0;
  while (performance.now() - started < 1500) {
    const seed = seeds[cases % seeds.length];
    const r = rand();
    let bytes: Uint8Array;
    if (r < 0.15) bytes = Uint8Array.from({ length: Math.floor(rand() * 400) }, () => Math.floor(rand() * 256));
    else if (r < 0.3) bytes = seed.subarray(0, Math.floor(rand() * seed.length));
    else {
      bytes = Uint8Array.from(seed);
      for (let flips = 1 + Math.floor(rand() * 6); flips > 0; flips--) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
    }
    try {
      parseTorchCheckpoint(bytes, 'fuzz.bin');
      parsed++;
    } catch (e) {
      assert.ok(e instanceof Error && e.message.startsWith('fuzz.bin: '), `case ${cases}: not a clear Error: ${String(e)}`);
    }
    cases++;
  }
  assert.ok(cases > 200 && parsed > 0, `${cases} cases, ${parsed} parsed`);
});
