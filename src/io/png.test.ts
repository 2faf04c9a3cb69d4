import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { crc32, decodePng, encodeGrayPng, toGray } from './png.js';

// Hand-built PNGs: chunks framed here, rows filtered by the reference filter below, deflated by node:zlib.
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function chunk(type: string, data: Uint8Array | number[]): number[] {
  const body = [...type].map((c) => c.charCodeAt(0)).concat([...data]);
  const be = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return [...be(data.length), ...body, ...be(crc32(Uint8Array.from(body)))];
}

function ihdr(width: number, height: number, depth: number, colorType: number, interlace = 0): number[] {
  const be = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return chunk('IHDR', [...be(width), ...be(height), depth, colorType, 0, 0, interlace]);
}

/** A PNG from its IHDR chunk, already-filtered row bytes (split over `idats` IDAT chunks) and extra chunks before them. */
function build(header: number[], filtered: Uint8Array, extra: number[] = [], idats = 1): Uint8Array {
  const z = zlib.deflateSync(filtered);
  const parts: number[] = [...SIGNATURE, ...header, ...extra];
  const step = Math.ceil(z.length / idats);
  for (let at = 0; at < z.length; at += step) parts.push(...chunk('IDAT', z.subarray(at, at + step)));
  return Uint8Array.from([...parts, ...chunk('IEND', [])]);
}

/** The encoder side of the five filters, written straight from the spec, applied to unfiltered rows. */
function filterRows(rows: Uint8Array[], bpp: number, kindOf: (y: number) => number): Uint8Array {
  const stride = rows[0].length;
  const out = new Uint8Array(rows.length * (stride + 1));
  rows.forEach((row, y) => {
    const kind = kindOf(y);
    out[y * (stride + 1)] = kind;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp] : 0;
      const b = y > 0 ? rows[y - 1][i] : 0;
      const c = y > 0 && i >= bpp ? rows[y - 1][i - bpp] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, Math.floor((a + b) / 2), paeth][kind];
      out[y * (stride + 1) + 1 + i] = (row[i] - predictor) & 255;
    }
  });
  return out;
}

function randomBytes(n: number, seed: number): Uint8Array {
  let s = seed;
  return Uint8Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16) & 255);
}

const rowsOf = (pixels: Uint8Array, stride: number) => Array.from({ length: pixels.length / stride }, (_, y) => pixels.subarray(y * stride, (y + 1) * stride));

test('crc32 matches the standard check value and node:zlib', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const bytes = randomBytes(1000, 7);
  const nodeCrc = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
  if (nodeCrc) assert.equal(crc32(bytes), nodeCrc(bytes));
});

test('a PNG from another encoder: 1×1 RGBA with the Sub filter', () => {
  const bytes = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
  const image = decodePng(bytes);
  assert.deepEqual(image, { width: 1, height: 1, channels: 4, pixels: Uint8Array.from([0, 0, 255, 127]) });
  assert.deepEqual(toGray(image), Uint8Array.from([29])); // 0.114 · 255 = 29.07, alpha ignored
});

test('encodeGrayPng round trips through decodePng, odd sizes included', () => {
  for (const [w, h] of [[32, 32], [1, 1], [7, 3], [3, 7]]) {
    const pixels = randomBytes(w * h, w * 100 + h);
    const image = decodePng(encodeGrayPng(pixels, w, h));
    assert.deepEqual(image, { width: w, height: h, channels: 1, pixels });
    assert.equal(toGray(image), image.pixels, 'gray images come back as they are');
  }
  assert.throws(() => encodeGrayPng(new Uint8Array(5), 2, 2), /5 pixels for 2×2/);
});

test('every filter type, for every 8-bit color type, alone and mixed, over several IDAT chunks', () => {
  const w = 6, h = 5;
  for (const [colorType, channels] of [[0, 1], [2, 3], [4, 2], [6, 4]]) {
    const pixels = randomBytes(w * h * channels, colorType + 1);
    // A smooth stretch too, so Paeth meets ties and small differences as well as noise.
    for (let i = 0; i < w * channels; i++) pixels[i] = 100 + i;
    const rows = rowsOf(pixels, w * channels);
    const kinds: ((y: number) => number)[] = [0, 1, 2, 3, 4].map((k) => () => k);
    kinds.push((y) => y % 5, (y) => 4 - (y % 5));
    for (const kindOf of kinds) {
      for (const idats of [1, 3]) {
        const image = decodePng(build(ihdr(w, h, 8, colorType), filterRows(rows, channels, kindOf), [], idats));
        assert.deepEqual(image, { width: w, height: h, channels, pixels }, `color type ${colorType}, filter of row 0: ${kindOf(0)}`);
      }
    }
  }
});

test('toGray uses the 0.2989 / 0.5870 / 0.1140 weights, rounded', () => {
  const image = { width: 2, height: 1, channels: 3, pixels: Uint8Array.from([10, 200, 30, 255, 255, 255]) };
  assert.deepEqual(toGray(image), Uint8Array.from([124, 255])); // 2.989 + 117.4 + 3.42 = 123.8
  assert.deepEqual(toGray({ width: 1, height: 1, channels: 2, pixels: Uint8Array.from([77, 9]) }), Uint8Array.from([77]));
});

test('palette images expand to RGB; 1-, 2- and 4-bit gray to 0–255', () => {
  const plte = chunk('PLTE', [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
  const indices = [0, 1, 2, 3, 3, 2];
  const image = decodePng(build(ihdr(3, 2, 8, 3), filterRows(rowsOf(Uint8Array.from(indices), 3), 1, () => 0), plte));
  assert.equal(image.channels, 3);
  assert.deepEqual([...image.pixels], indices.flatMap((i) => [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]][i]));
  // 4-bit palette: two indices a byte, high nibble first
  const packed = decodePng(build(ihdr(3, 1, 4, 3), Uint8Array.from([0, 0x21, 0x30]), plte));
  assert.deepEqual([...packed.pixels], [0, 0, 255, 0, 255, 0, 10, 20, 30]);
  const outOfRange = build(ihdr(1, 1, 8, 3), Uint8Array.from([0, 4]), plte);
  assert.throws(() => decodePng(outOfRange, 'p.png'), /^Error: p\.png: palette index 4 out of range/);
  assert.throws(() => decodePng(build(ihdr(1, 1, 8, 3), Uint8Array.from([0, 0])), 'p.png'), /p\.png: palette image without a PLTE chunk/);

  // 1-bit, 10 wide: rows are 2 bytes, the last 6 bits padding; Up filter on the second row.
  const bits = [1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1];
  const pack = (r: number[]) => [r.slice(0, 8).reduce((n, b) => (n << 1) | b, 0), r.slice(8).reduce((n, b) => (n << 1) | b, 0) << 6];
  const row0 = pack(bits.slice(0, 10)), row1 = pack(bits.slice(10));
  const oneBit = Uint8Array.from([0, ...row0, 2, (row1[0] - row0[0]) & 255, (row1[1] - row0[1]) & 255]);
  const gray = decodePng(build(ihdr(10, 2, 1, 0), oneBit));
  assert.deepEqual(gray, { width: 10, height: 2, channels: 1, pixels: Uint8Array.from(bits.map((b) => b * 255)) });
  assert.deepEqual([...decodePng(build(ihdr(4, 1, 2, 0), Uint8Array.from([0, 0b00011011]))).pixels], [0, 85, 170, 255]);
  assert.deepEqual([...decodePng(build(ihdr(3, 1, 4, 0), Uint8Array.from([0, 0x0f, 0x70]))).pixels], [0, 255, 119]);
});

test('damaged files: bad signature, bad CRC, bad header, wrong data length, bad filter', () => {
  const good = encodeGrayPng(randomBytes(16, 3), 4, 4);
  const named = (what: RegExp) => (e: unknown) => e instanceof Error && what.test(e.message);
  const bad = Uint8Array.from(good);
  bad[0] = 0x88;
  assert.throws(() => decodePng(bad, 'x.png'), named(/^x\.png: not a PNG file/));
  const idatData = 8 + 25 + 8; // after the signature, the IHDR chunk, and IDAT's length and type
  const flipped = Uint8Array.from(good);
  flipped[idatData + 2] ^= 1;
  assert.throws(() => decodePng(flipped, 'x.png'), named(/^x\.png: bad CRC in IDAT chunk$/));
  assert.throws(() => decodePng(build(ihdr(4, 4, 8, 0, 1), new Uint8Array(20)), 'x.png'), named(/^x\.png: interlaced PNGs are not supported$/));
  assert.throws(() => decodePng(build(ihdr(4, 4, 16, 0), new Uint8Array(36)), 'x.png'), named(/^x\.png: 16-bit samples are not supported$/));
  assert.throws(() => decodePng(build(ihdr(4, 4, 4, 2), new Uint8Array(20)), 'x.png'), named(/^x\.png: bit depth 4 is not valid for color type 2$/));
  assert.throws(() => decodePng(build(ihdr(4, 4, 8, 5), new Uint8Array(20)), 'x.png'), named(/^x\.png: bad color type 5$/));
  assert.throws(() => decodePng(build(ihdr(0, 4, 8, 0), new Uint8Array(4)), 'x.png'), named(/^x\.png: bad size 0×4$/));
  assert.throws(() => decodePng(build(ihdr(4, 4, 8, 0), new Uint8Array(15)), 'x.png'), named(/^x\.png: image data is 15 bytes, expected 20/));
  assert.throws(() => decodePng(build(ihdr(4, 4, 8, 0), new Uint8Array(21)), 'x.png'), named(/^x\.png: image data is 21 bytes, expected 20/));
  assert.throws(() => decodePng(build(ihdr(4, 4, 8, 0), new Uint8Array(400)), 'x.png'), named(/^x\.png: image data is longer than the 20 bytes expected/));
  assert.throws(() => decodePng(build(ihdr(1, 1, 8, 0), Uint8Array.from([5, 0])), 'x.png'), named(/^x\.png: bad filter type 5 on row 0$/));
  const noHeader = Uint8Array.from([...SIGNATURE, ...chunk('IEND', [])]);
  assert.throws(() => decodePng(noHeader, 'x.png'), named(/^x\.png: first chunk is IEND, expected IHDR$/));
  const garbledIdat = Uint8Array.from([...SIGNATURE, ...ihdr(1, 1, 8, 0), ...chunk('IDAT', [1, 2, 3]), ...chunk('IEND', [])]);
  assert.throws(() => decodePng(garbledIdat, 'x.png'), named(/^x\.png: corrupt image data/));
});

test('truncated at every byte offset: always an Error naming the file, never a result', () => {
  const plte = chunk('PLTE', [1, 2, 3, 4, 5, 6]);
  const files = [encodeGrayPng(randomBytes(12, 5), 4, 3), build(ihdr(2, 2, 8, 3), Uint8Array.from([0, 0, 1, 4, 1, 0]), plte, 2)];
  for (const full of files) {
    decodePng(full); // the whole file is fine
    for (let n = 0; n < full.length; n++) {
      assert.throws(
        () => decodePng(full.subarray(0, n), 'x.png'),
        (e: unknown) => e instanceof Error && e.message.startsWith('x.png: '),
        `prefix of ${n} bytes`,
      );
    }
  }
  assert.throws(() => decodePng(new Uint8Array(0), 'x.png'), /^Error: x\.png: truncated$/);
});
