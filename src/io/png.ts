/**
 * A minimal PNG codec (ISO/IEC 15948, the W3C PNG specification), enough for the image datasets:
 * non-interlaced gray, gray+alpha, RGB, RGBA and palette images of 8-bit samples, and gray or palette
 * images of 1, 2 or 4 bits. Every chunk's CRC is checked, so a damaged download fails loudly
 * instead of training on noise.
 */
import { deflateSync, inflateSync } from 'node:zlib';

export interface PngImage {
  width: number;
  height: number;
  /** Samples per pixel of `pixels`: 1 gray, 2 gray+alpha, 3 RGB (palette images too), 4 RGBA. */
  channels: number;
  /** Row by row, `channels` bytes a pixel, 0–255. */
  pixels: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
// Samples per pixel as stored, by color type (3 is a palette index).
const STORED_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
// Far above any dataset image; keeps a corrupt IHDR from asking for gigabytes.
const MAX_RAW_BYTES = 1 << 28;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 as PNG (and zlib, gzip) define it. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const u32 = (b: Uint8Array, at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

export function decodePng(bytes: Uint8Array, name = 'PNG'): PngImage {
  const fail = (why: string): never => {
    throw new Error(`${name}: ${why}`);
  };
  if (bytes.length < 8) fail(SIGNATURE.slice(0, bytes.length).every((b, i) => bytes[i] === b) ? 'truncated' : 'not a PNG file (bad signature)');
  if (!SIGNATURE.every((b, i) => bytes[i] === b)) fail('not a PNG file (bad signature)');

  let header: { width: number; height: number; depth: number; colorType: number } | undefined;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  for (let at = 8; !ended; ) {
    if (at + 12 > bytes.length) fail(at === bytes.length ? 'truncated (no IEND chunk)' : 'truncated');
    const length = u32(bytes, at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (!/^[A-Za-z]{4}$/.test(type)) fail(`bad chunk type at byte ${at + 4}`);
    if (length > 0x7fffffff || at + 12 + length > bytes.length) fail('truncated');
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (crc32(bytes, at + 4, at + 8 + length) !== u32(bytes, at + 8 + length)) fail(`bad CRC in ${type} chunk`);
    at += 12 + length;
    if (!header && type !== 'IHDR') fail(`first chunk is ${type}, expected IHDR`);
    if (type === 'IHDR') {
      if (header) fail('more than one IHDR chunk');
      header = readHeader(data, fail);
    } else if (type === 'PLTE') {
      if (length === 0 || length % 3 !== 0 || length > 768) fail(`PLTE chunk of ${length} bytes (need 3 per entry, at most 256 entries)`);
      palette = data;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
    // Uppercase first letter marks a critical chunk: the spec says a decoder that does not know one must stop.
    else if (type[0] <= 'Z') fail(`unknown critical chunk ${type}`);
  }
  const { width, height, depth, colorType } = header!;
  if (colorType === 3 && !palette) fail('palette image without a PLTE chunk');
  if (idat.length === 0) fail('no IDAT chunk');

  const bitsPerPixel = STORED_CHANNELS[colorType] * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const expected = height * (1 + stride);
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') fail(`image data is longer than the ${expected} bytes expected for ${width}×${height}`);
    return fail(`corrupt image data (${(e as Error).message})`);
  }
  if (raw.length !== expected) fail(`image data is ${raw.length} bytes, expected ${expected} for ${width}×${height}`);
  unfilter(raw, height, stride, Math.max(1, bitsPerPixel >> 3), fail);
  return expand(raw, header!, stride, palette, fail);
}

function readHeader(d: Uint8Array, fail: (why: string) => never) {
  if (d.length !== 13) fail(`IHDR chunk of ${d.length} bytes, expected 13`);
  const width = u32(d, 0);
  const height = u32(d, 4);
  const [depth, colorType, compression, filter, interlace] = d.subarray(8, 13);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) fail(`bad size ${width}×${height}`);
  if (!(colorType in STORED_CHANNELS)) fail(`bad color type ${colorType}`);
  if (compression !== 0 || filter !== 0) fail(`unknown compression method ${compression} or filter method ${filter}`);
  if (interlace === 1) fail('interlaced PNGs are not supported');
  if (interlace !== 0) fail(`bad interlace method ${interlace}`);
  if (depth === 16) fail('16-bit samples are not supported');
  const lowDepthOk = colorType === 0 || colorType === 3;
  if (depth !== 8 && !(lowDepthOk && (depth === 1 || depth === 2 || depth === 4))) fail(`bit depth ${depth} is not valid for color type ${colorType}`);
  if (height * (1 + Math.ceil((width * STORED_CHANNELS[colorType] * depth) / 8)) > MAX_RAW_BYTES) fail(`image too large (${width}×${height})`);
  return { width, height, depth, colorType };
}

/** Undoes the per-row filters in place; `bpp` is the byte distance to the "left" pixel. */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number, fail: (why: string) => never): void {
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1;
    const up = row - stride - 1; // the previous row; treated as zeros for the first
    const kind = raw[row - 1];
    if (kind > 4) fail(`bad filter type ${kind} on row ${y}`);
    if (kind === 0) continue;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? raw[row + i - bpp] : 0;
      const b = y > 0 ? raw[up + i] : 0;
      const c = y > 0 && i >= bpp ? raw[up + i - bpp] : 0;
      let predictor = a; // Sub
      if (kind === 2) predictor = b; // Up
      else if (kind === 3) predictor = (a + b) >> 1; // Average
      else if (kind === 4) {
        // Paeth: whichever neighbour is closest to a + b − c, ties in the order a, b, c
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      raw[row + i] = (raw[row + i] + predictor) & 0xff;
    }
  }
}

/** Filtered rows to 8-bit samples: low bit depths scaled to 0–255, palette indices to RGB. */
function expand(
  raw: Uint8Array,
  h: { width: number; height: number; depth: number; colorType: number },
  stride: number,
  palette: Uint8Array | undefined,
  fail: (why: string) => never,
): PngImage {
  const { width, height, depth, colorType } = h;
  const stored = STORED_CHANNELS[colorType];
  if (depth === 8 && colorType !== 3) {
    const pixels = new Uint8Array(width * height * stored);
    for (let y = 0; y < height; y++) pixels.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
    return { width, height, channels: stored, pixels };
  }
  const channels = colorType === 3 ? 3 : 1;
  const pixels = new Uint8Array(width * height * channels);
  const mask = (1 << depth) - 1;
  const scale = 255 / mask;
  const entries = palette ? palette.length / 3 : 0;
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1;
    for (let x = 0; x < width; x++) {
      const bit = x * depth; // samples are packed from the high bits of each byte
      const v = (raw[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
      const o = (y * width + x) * channels;
      if (colorType === 0) pixels[o] = Math.round(v * scale);
      else {
        if (v >= entries) fail(`palette index ${v} out of range (${entries} entries) at pixel (${x}, ${y})`);
        pixels.set(palette!.subarray(v * 3, v * 3 + 3), o);
      }
    }
  }
  return { width, height, channels, pixels };
}

/** ITU-R 601 luma rounded: the weights of tf.image.rgb_to_grayscale, which LRA applies to its images. */
export function grayLevel(r: number, g: number, b: number): number {
  return Math.round(0.2989 * r + 0.587 * g + 0.114 * b);
}

/** One gray level a pixel (grayLevel); alpha ignored. */
export function toGray(image: PngImage): Uint8Array {
  const { width, height, channels, pixels } = image;
  if (channels === 1) return pixels;
  const n = width * height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    out[i] = channels === 2 ? pixels[o] : grayLevel(pixels[o], pixels[o + 1], pixels[o + 2]);
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/** An 8-bit grayscale PNG, every row with filter 0 (small images compress well enough without prediction). */
export function encodeGrayPng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new Error(`encodeGrayPng: bad size ${width}×${height}`);
  if (pixels.length !== width * height) throw new Error(`encodeGrayPng: ${pixels.length} pixels for ${width}×${height}`);
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8; // bit depth; color type 0, compression 0, filter 0, no interlace
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
