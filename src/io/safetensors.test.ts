import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  halfToFloat, parseSafetensors, readSafetensors, readSafetensorsSync, serializeSafetensors, toFloat32, toInt32,
  writeSafetensorsSync, type RawTensor,
} from './safetensors.js';

/** A file from a header object (or raw header text) and data bytes, as a foreign writer might produce. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerLength?: number): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

const u16 = (...xs: number[]) => new Uint8Array(new Uint16Array(xs).buffer);
const raw = (dtype: RawTensor['dtype'], shape: number[], data: Uint8Array): RawTensor => ({ dtype, shape, data });

test('round trip: F32, I32, I64, metadata, scalars and empty tensors', () => {
  const f = new Float32Array([1.5, -2, 3.25, 0, Math.fround(1e-30), -Infinity]);
  const i = new Int32Array([7, -8, 2147483647]);
  const l = new BigInt64Array([1n, -2n, 9007199254740992n]);
  const bytes = serializeSafetensors(
    {
      weight: { dtype: 'F32', shape: [2, 3], data: f },
      ids: { dtype: 'I32', shape: [3], data: i },
      a_long: { dtype: 'I64', shape: [3, 1], data: l },
      scalar: { dtype: 'F32', shape: [], data: new Float32Array([42]) },
      empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    },
    { format: 'pt', note: 'naïve ✓' },
  );
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLength % 8, 0, 'header padded to a multiple of 8');
  const file = parseSafetensors(bytes, 'roundtrip');
  assert.deepEqual(file.metadata, { format: 'pt', note: 'naïve ✓' });
  assert.deepEqual([...file.tensors.keys()].sort(), ['a_long', 'empty', 'ids', 'scalar', 'weight']);
  const w = file.tensors.get('weight')!;
  assert.equal(w.dtype, 'F32');
  assert.deepEqual(w.shape, [2, 3]);
  assert.deepEqual(toFloat32(w), f);
  assert.deepEqual(toInt32(file.tensors.get('ids')!), i);
  assert.throws(() => toInt32(file.tensors.get('a_long')!, 'a_long'), /a_long: I64 value 9007199254740992 at index 2 does not fit in int32/);
  assert.deepEqual(toFloat32(file.tensors.get('a_long')!), new Float32Array([1, -2, 9007199254740992]));
  assert.deepEqual(file.tensors.get('scalar')!.shape, []);
  assert.deepEqual(toFloat32(file.tensors.get('scalar')!), new Float32Array([42]));
  assert.equal(toFloat32(file.tensors.get('empty')!).length, 0);
  // every tensor aligned to its item size within the file, and the data laid out without gaps
  const spans: [number, number][] = [];
  for (const t of file.tensors.values()) {
    const size = { F32: 4, I32: 4, I64: 8 }[t.dtype as 'F32'];
    assert.equal(t.data.byteOffset % size, 0, `${t.dtype} tensor misaligned`);
    spans.push([t.data.byteOffset, t.data.byteOffset + t.data.length]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  assert.equal(spans[0][0], 8 + headerLength);
  for (let k = 1; k < spans.length; k++) assert.equal(spans[k][0], spans[k - 1][1]);
  assert.equal(spans[spans.length - 1][1], bytes.length);
  // and serializing again gives the same bytes
  const again = serializeSafetensors(
    Object.fromEntries([...file.tensors].map(([name, t]) => {
      const data = t.dtype === 'I64' ? new BigInt64Array(t.data.slice().buffer) : t.dtype === 'I32' ? toInt32(t) : toFloat32(t);
      return [name, { dtype: t.dtype as 'F32', shape: t.shape, data }];
    })),
    file.metadata,
  );
  assert.deepEqual(again, bytes);
});

test('conversions return copies, not views of the file', () => {
  const bytes = serializeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
  const file = parseSafetensors(bytes);
  const x = toFloat32(file.tensors.get('x')!);
  x[0] = 99;
  assert.deepEqual(toFloat32(file.tensors.get('x')!), new Float32Array([1, 2]));
});

test('unaligned data (a foreign writer) still reads', () => {
  // a 1-byte U8 tensor first pushes the F32 tensor to an odd offset
  const data = new Uint8Array(1 + 8);
  data[0] = 200;
  new DataView(data.buffer).setFloat32(1, 1.25, true);
  new DataView(data.buffer).setFloat32(5, -3, true);
  const file = parseSafetensors(rawFile({
    b: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
    f: { dtype: 'F32', shape: [2], data_offsets: [1, 9] },
  }, data));
  assert.deepEqual(toFloat32(file.tensors.get('f')!), new Float32Array([1.25, -3]));
  assert.deepEqual(toFloat32(file.tensors.get('b')!), new Float32Array([200]));
  assert.deepEqual(toInt32(file.tensors.get('b')!), new Int32Array([200]));
});

test('F16 widening: normals, subnormals, ±0, ±inf, NaN', () => {
  const cases: [number, number][] = [
    [0x3c00, 1], [0xc000, -2], [0x3555, 0.333251953125], [0x7bff, 65504], [0x0400, 2 ** -14],
    [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x8001, -(2 ** -24)], [0x0000, 0], [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  const got = toFloat32(raw('F16', [cases.length + 2], u16(...cases.map((c) => c[0]), 0x7e00, 0x8000)));
  cases.forEach(([bits, want], i) => assert.equal(got[i], want, `half 0x${bits.toString(16)}`));
  assert.ok(Number.isNaN(got[cases.length]), 'half 0x7e00 is NaN');
  assert.ok(Object.is(got[cases.length + 1], -0), 'half 0x8000 is −0');
  assert.ok(Number.isNaN(halfToFloat(0x7c01)));
});

test('BF16 widening: normals, subnormals, ±inf, NaN', () => {
  const cases: [number, number][] = [
    [0x3f80, 1], [0xc000, -2], [0x4049, 3.140625], [0x0080, 2 ** -126], [0x0001, 2 ** -133],
    [0x8001, -(2 ** -133)], [0x7f7f, 3.3895313892515355e38], [0x7f80, Infinity], [0xff80, -Infinity],
  ];
  const got = toFloat32(raw('BF16', [cases.length + 1], u16(...cases.map((c) => c[0]), 0x7fc0)));
  cases.forEach(([bits, want], i) => assert.equal(got[i], want, `bfloat16 0x${bits.toString(16)}`));
  assert.ok(Number.isNaN(got[cases.length]));
});

test('F64 narrowing, integer conversion and its range checks', () => {
  const f64 = new Uint8Array(new Float64Array([0.1, -1e300, 2.5]).buffer);
  assert.deepEqual(toFloat32(raw('F64', [3], f64)), new Float32Array([0.1, -Infinity, 2.5]));
  const i8 = new Uint8Array(new Int8Array([-128, 127]).buffer);
  assert.deepEqual(toFloat32(raw('I8', [2], i8)), new Float32Array([-128, 127]));
  assert.deepEqual(toInt32(raw('I8', [2], i8)), new Int32Array([-128, 127]));
  assert.deepEqual(toFloat32(raw('BOOL', [2], new Uint8Array([1, 0]))), new Float32Array([1, 0]));

  const huge = new Uint8Array(new BigInt64Array([3n, 9007199254740993n]).buffer);
  assert.throws(() => toFloat32(raw('I64', [2], huge), 'position_ids'), /position_ids: I64 value 9007199254740993 at index 1 .*2\^53/);
  const wide = new Uint8Array(new BigInt64Array([2147483648n]).buffer);
  assert.throws(() => toInt32(raw('I64', [1], wide), 'input_ids'), /input_ids: I64 value 2147483648 at index 0 does not fit in int32/);
  const negative = new Uint8Array(new BigInt64Array([-2147483648n]).buffer);
  assert.deepEqual(toInt32(raw('I64', [1], negative)), new Int32Array([-2147483648]));
  assert.throws(() => toInt32(raw('F32', [1], new Uint8Array(4)), 'mask'), /mask: cannot read F32 \[1\] as int32/);
  assert.throws(() => toInt32(raw('BF16', [1], new Uint8Array(2)), 'w'), /w: cannot read BF16/);
});

test('malformed files: each error names the file, the tensor and the problem', () => {
  const good = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const data = new Uint8Array(8);
  const bad = (bytes: Uint8Array, pattern: RegExp) => assert.throws(() => parseSafetensors(bytes, 'model.safetensors'), pattern);

  bad(new Uint8Array(5), /^Error: model\.safetensors: file is 5 bytes, too short for the 8-byte header length/);
  bad(rawFile(good, data, 10_000), /model\.safetensors: header length 10000 exceeds the \d+ bytes after the length field/);
  const hugeLength = rawFile(good, data);
  new DataView(hugeLength.buffer).setBigUint64(0, 2n ** 63n, true);
  bad(hugeLength, /header length 9223372036854775808 exceeds/);
  bad(rawFile('{"x": {"dtype": "F32",', data), /model\.safetensors: header is not valid UTF-8 JSON/);
  bad(rawFile('[1, 2]', data), /header JSON is not an object/);
  bad(rawFile({ x: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, data), /tensor 'x': unknown dtype "F8_E4M3"/);
  bad(rawFile({ x: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, data), /tensor 'x': shape \[2,-1\] is not a list of non-negative integers/);
  bad(rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data), /tensor 'x': data_offsets \[0\] is not a pair/);
  bad(rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data), /tensor 'x': data_offsets \[8, 0\] end before they begin/);
  bad(rawFile({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data), /tensor 'x': data_offsets \[0, 16\] run past the 8 data bytes/);
  bad(rawFile({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data), /tensor 'x': F32 \[3\] needs 12 bytes but data_offsets \[0, 8\] hold 8/);
  bad(rawFile({ x: 'F32' }, data), /tensor 'x': header entry is not an object/);
  bad(
    rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F16', shape: [2], data_offsets: [4, 8] } }, data),
    /tensors 'a' \[0, 8\] and 'b' \[4, 8\] have overlapping data_offsets/,
  );
  bad(rawFile({ __metadata__: { epoch: 3 }, ...good }, data), /__metadata__ 'epoch' is 3, not a string/);
  bad(rawFile({ __metadata__: ['a'], ...good }, data), /__metadata__ is not an object of strings/);

  // a file cut short inside its data
  const whole = serializeSafetensors({ w: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
  bad(whole.subarray(0, whole.length - 3), /tensor 'w': data_offsets \[0, 16\] run past the 13 data bytes \(truncated\?\)/);
  // a file cut short inside its header
  bad(whole.subarray(0, 20), /header length \d+ exceeds the 12 bytes after the length field/);
  // well-formed variants parse
  assert.equal(parseSafetensors(rawFile(good, data)).tensors.size, 1);
  assert.equal(parseSafetensors(rawFile({})).tensors.size, 0);
});

test('headers that would build far more than a file can describe are refused before they are parsed', () => {
  const bad = (bytes: Uint8Array, pattern: RegExp) => {
    const started = performance.now();
    assert.throws(() => parseSafetensors(bytes, 'model.safetensors'), pattern);
    assert.ok(performance.now() - started < 1000, `refused quickly: ${pattern}`);
  };
  const entries = (n: number) => Array.from({ length: n }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(',');
  // a million empty tensors cost a gigabyte to parse; past 131,072 entries the header is refused unparsed
  bad(rawFile(`{${entries(131_073)}}`), /^Error: model\.safetensors: the header describes 131073 entries, more than the 131072 \(tensors and __metadata__\) a file may hold/);
  // objects and arrays, or keys, that no tensor entry needs
  bad(rawFile(`{"x":[${'{},'.repeat(200_000)}{}]}`), /model\.safetensors: the header holds \d+ objects, arrays and keys for 1 entries/);
  bad(rawFile({ __metadata__: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, ''])) }), /model\.safetensors: the header holds \d+ objects, arrays and keys for 1 entries/);
  // strings are skipped, escapes and all: brackets and colons inside names count for nothing
  const tricky = { 'a[{:\\"': { dtype: 'F32', shape: [0], data_offsets: [0, 0] }, __metadata__: { '{[': ':,"}]' } };
  assert.equal(parseSafetensors(rawFile(tricky)).tensors.size, 1);
  assert.equal(parseSafetensors(rawFile(`{${entries(20_000)}}`)).tensors.size, 20_000);
});

test('serialize refuses what it cannot write', () => {
  assert.throws(
    () => serializeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }),
    /tensor 'x': shape \[3\] has 3 elements but data has 2/,
  );
  assert.throws(
    () => serializeSafetensors({ x: { dtype: 'I64', shape: [2], data: new Int32Array(2) } }),
    /tensor 'x': I64 needs a BigInt64Array, got Int32Array/,
  );
  assert.throws(
    () => serializeSafetensors({ x: { dtype: 'F16' as 'F32', shape: [1], data: new Float32Array(1) } }),
    /tensor 'x': dtype "F16" cannot be written/,
  );
  assert.throws(
    () => serializeSafetensors({}, { epoch: 3 as unknown as string }),
    /metadata 'epoch' must be a string/,
  );
});

test('write atomically, read back sync and async, no temporary files left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'safetensors-'));
  try {
    const path = join(dir, 'model.safetensors');
    const tensors = { w: { dtype: 'F32' as const, shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } };
    writeSafetensorsSync(path, tensors, { step: '1' });
    writeSafetensorsSync(path, { ...tensors, b: { dtype: 'I32', shape: [1], data: new Int32Array([5]) } }, { step: '2' });
    assert.deepEqual(readdirSync(dir), ['model.safetensors']);
    const sync = readSafetensorsSync(path);
    const asyncRead = await readSafetensors(path);
    for (const file of [sync, asyncRead]) {
      assert.deepEqual(file.metadata, { step: '2' });
      assert.deepEqual(toFloat32(file.tensors.get('w')!), new Float32Array([1, 2, 3, 4]));
      assert.deepEqual(toInt32(file.tensors.get('b')!), new Int32Array([5]));
    }
    assert.throws(() => readSafetensorsSync(join(dir, 'missing.safetensors')), /ENOENT/);
    assert.throws(() => writeSafetensorsSync(join(dir, 'no', 'such', 'dir.safetensors'), tensors), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const fixture = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/attention/div_n64_m8_pad_conv5.safetensors');

test('reads the attention fixtures written by the Python generator', { skip: !existsSync(fixture) }, () => {
  const file = readSafetensorsSync(fixture);
  assert.deepEqual(file.metadata, {
    num_landmarks: '8', conv_kernel_size: '5', init: 'original', pinv_iterations: '6', variant: 'original', tolerance: '1e-4',
  });
  const shapes = Object.fromEntries([...file.tensors].map(([name, t]) => [name, t.shape]));
  const qkv = [2, 2, 64, 8];
  assert.deepEqual(shapes, {
    q: qkv, k: qkv, v: qkv, out: qkv, dout: qkv, dq: qkv, dk: qkv, dv: qkv, mask: [2, 64], conv_w: [2, 1, 5, 1], dconv_w: [2, 1, 5, 1],
  });
  const mask = toFloat32(file.tensors.get('mask')!);
  assert.ok(mask.every((x) => x === 0 || x === 1));
  assert.equal(mask.reduce((a, b) => a + b, 0), 64 + 51);
});
