/**
 * The safetensors format (https://huggingface.co/docs/safetensors):
 *
 *   [u64 little-endian N] [N bytes of UTF-8 JSON header] [data]
 *   header = { name: { dtype, shape, data_offsets: [begin, end] }, …, "__metadata__"?: { key: string } }
 *
 * Offsets are relative to the first byte after the header. Parsing validates everything a
 * malformed or truncated file could get wrong, and every error names the file and the tensor.
 * Tensors are returned as raw little-endian bytes (views into the file, no copy); toFloat32 and
 * toInt32 convert them to the engine's two dtypes.
 *
 * This module works on bytes only (no Node built-ins), so that it also loads in browsers;
 * safetensors.ts adds the file functions.
 */
export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'F64' | 'U8' | 'I8' | 'BOOL';

export interface RawTensor {
  dtype: SafetensorsDType;
  shape: number[];
  /** The tensor's bytes, little-endian, row-major. */
  data: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** What serializeSafetensors and writeSafetensorsSync accept per tensor. */
export interface TensorToWrite {
  dtype: 'F32' | 'I32' | 'I64' | 'I8';
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array | Int8Array;
}

const ITEM_SIZE: Record<SafetensorsDType, number> = {
  F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I16: 2, U8: 1, I8: 1, BOOL: 1,
};

/** The reference implementation refuses headers above 100 MB; so do we, before allocating a string. */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Tensors one checkpoint file may hold, here and in pytorch_model.bin: the largest real models have
 * fewer than 100,000 in all their shards together (a 110M-parameter BERT has about 200), and each
 * costs about a kilobyte of memory to describe, so a header of a million empty tensors cost a gigabyte.
 */
export const MAX_TENSORS = 2 ** 17;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const isDType = (s: unknown): s is SafetensorsDType => typeof s === 'string' && Object.hasOwn(ITEM_SIZE, s);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Parses and validates a whole safetensors file held in memory. `source` names it in errors. */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsFile {
  function fail(msg: string): never {
    throw new Error(`${source}: ${msg}`);
  }
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const big = view.getBigUint64(0, true);
  if (big > BigInt(bytes.length - 8)) {
    fail(`header length ${big} exceeds the ${bytes.length - 8} bytes after the length field (truncated or not a safetensors file)`);
  }
  const headerLen = Number(big);
  if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerLen < 2) fail(`header length ${headerLen} is too short for a JSON object`);
  checkHeaderSize(bytes.subarray(8, 8 + headerLen), fail);

  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header JSON is not an object');

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, RawTensor>();
  const spans: { name: string; begin: number; end: number }[] = [];

  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail('__metadata__ is not an object of strings');
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') fail(`__metadata__ '${key}' is ${JSON.stringify(value)}, not a string`);
        metadata[key] = value as string;
      }
      continue;
    }
    const where = `tensor '${name}'`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(`${where}: header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isDType(dtype)) fail(`${where}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(ITEM_SIZE).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every(isCount)) fail(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      fail(`${where}: data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) fail(`${where}: data_offsets [${begin}, ${end}] run past the ${dataLen} data bytes (truncated?)`);
    const dims = shape as number[];
    const count = dims.reduce((a, b) => a * b, 1);
    const want = count * ITEM_SIZE[dtype as SafetensorsDType];
    if (!Number.isSafeInteger(want) || want !== end - begin) {
      fail(`${where}: ${dtype} [${dims.join(', ')}] needs ${want} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    spans.push({ name, begin, end });
    tensors.set(name, {
      dtype: dtype as SafetensorsDType,
      shape: dims.slice(),
      data: bytes.subarray(dataStart + begin, dataStart + end),
    });
  }

  // Empty tensors occupy no bytes and cannot overlap anything.
  const sorted = spans.filter((s) => s.end > s.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const [p, c] = [sorted[i - 1], sorted[i]];
    if (c.begin < p.end) {
      fail(`tensors '${p.name}' [${p.begin}, ${p.end}] and '${c.name}' [${c.begin}, ${c.end}] have overlapping data_offsets`);
    }
  }
  return { tensors, metadata };
}

/**
 * Refuses, before JSON.parse builds it, a header describing more than a file can hold: more than
 * MAX_TENSORS entries, or more objects, arrays and keys than its entries need (a tensor entry has 7:
 * its key, an object, three fields, two arrays; __metadata__ gets `METADATA_VALUES` besides). One pass
 * over the bytes that skips strings, escapes and all, and allocates nothing.
 */
function checkHeaderSize(header: Uint8Array, fail: (msg: string) => never): void {
  let depth = 0;
  let entries = 0;
  let values = 0;
  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (c === 0x22) { // '"': to the closing quote, past escaped characters
      for (i++; i < header.length && header[i] !== 0x22; i++) if (header[i] === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) { // '{' '['
      depth++;
      values++;
    } else if (c === 0x7d || c === 0x5d) { // '}' ']'
      depth--;
    } else if (c === 0x3a) { // ':' one per key
      values++;
      if (depth === 1) entries++;
    }
  }
  if (entries > MAX_TENSORS) {
    fail(`the header describes ${entries} entries, more than the ${MAX_TENSORS} (tensors and __metadata__) a file may hold here; the largest real models have fewer than 100,000 tensors in all their shards, so refusing to parse it`);
  }
  if (values > 8 * entries + METADATA_VALUES) {
    fail(`the header holds ${values} objects, arrays and keys for ${entries} entries (a tensor needs 7, __metadata__ up to ${METADATA_VALUES}); refusing to parse it`);
  }
}

/** Keys (and the object) __metadata__ may hold beyond a tensor entry's allowance; real files hold a handful. */
const METADATA_VALUES = 4096;

/** A copy of the tensor's values as float32: F16 and BF16 widened exactly, F64 rounded, integers converted. */
export function toFloat32(t: RawTensor, name = 'tensor'): Float32Array {
  const n = t.data.length / ITEM_SIZE[t.dtype];
  const out = new Float32Array(n);
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  switch (t.dtype) {
    case 'F32':
      if (LITTLE_ENDIAN && t.data.byteOffset % 4 === 0) out.set(new Float32Array(t.data.buffer, t.data.byteOffset, n));
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      break;
    case 'BF16': {
      // bfloat16 is the top half of a float32
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = safeInt64(view.getBigInt64(8 * i, true), name, i);
      break;
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = t.data[i];
      break;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
  }
  return out;
}

/**
 * toFloat32 for weights, refusing NaN and ±Infinity (F64 values beyond float32 become Infinity) with
 * the tensor's name. Models load their weights through this, so that every runtime refuses such a
 * checkpoint alike, once, as it loads: the engine used to fail only at attention, and onnxruntime to
 * print NaN scores.
 */
export function toFiniteFloat32(t: RawTensor, name: string, source: string): Float32Array {
  const values = toFloat32(t, name);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0 && bad++ === 0) first = i; // v - v is NaN for NaN and ±Infinity, else 0
  }
  if (bad > 0) {
    throw new Error(`${source}: tensor '${name}' has ${bad} non-finite value${bad === 1 ? '' : 's'} (${values[first]} at index ${first}); `
      + 'refusing weights that can only compute NaN (a damaged file, or a training run that diverged)');
  }
  return values;
}

/** A copy of an integer tensor as int32 (ids, positions). I64 values must fit; floats are refused. */
export function toInt32(t: RawTensor, name = 'tensor'): Int32Array {
  const n = t.data.length / ITEM_SIZE[t.dtype];
  const out = new Int32Array(n);
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  switch (t.dtype) {
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
      break;
    case 'I64':
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v < -2147483648n || v > 2147483647n) {
          throw new Error(`${name}: I64 value ${v} at index ${i} does not fit in int32`);
        }
        out[i] = Number(v);
      }
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true);
      break;
    case 'U8':
    case 'BOOL':
      out.set(t.data);
      break;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    default:
      throw new Error(`${name}: cannot read ${t.dtype} [${t.shape.join(', ')}] as int32 (an integer dtype is required)`);
  }
  return out;
}

function safeInt64(v: bigint, name: string, i: number): number {
  if (v > 9007199254740992n || v < -9007199254740992n) {
    throw new Error(`${name}: I64 value ${v} at index ${i} is beyond 2^53 and cannot be converted exactly`);
  }
  return Number(v);
}

/** IEEE 754 binary16 bits → number (exact: every half is a float32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * The bytes of a safetensors file. Tensors are laid out without gaps (the reference reader refuses
 * gaps), 8-byte items first, then 4-byte ones, by name within each size, so every tensor is aligned
 * to its item size; the header is padded with spaces to a multiple of 8.
 */
export function serializeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  for (const [name, t] of Object.entries(tensors)) {
    if (!['F32', 'I32', 'I64', 'I8'].includes(t.dtype)) {
      throw new Error(`serializeSafetensors: tensor '${name}': dtype ${JSON.stringify(t.dtype)} cannot be written (F32, I32, I64 or I8)`);
    }
  }
  const names = Object.keys(tensors).sort((a, b) => {
    const bySize = ITEM_SIZE[tensors[b].dtype] - ITEM_SIZE[tensors[a].dtype];
    return bySize !== 0 ? bySize : a < b ? -1 : a > b ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`serializeSafetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  }
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const name of names) {
    if (name === '__metadata__') throw new Error(`serializeSafetensors: '__metadata__' cannot name a tensor`);
    const { dtype, shape, data } = tensors[name];
    const where = `serializeSafetensors: tensor '${name}'`;
    const expected = { F32: Float32Array, I32: Int32Array, I64: BigInt64Array, I8: Int8Array }[dtype];
    if (!(data instanceof expected)) throw new Error(`${where}: ${dtype} needs a ${expected.name}, got ${data.constructor.name}`);
    if (!shape.every((x) => isCount(x))) throw new Error(`${where}: shape [${shape.join(', ')}] is not a list of non-negative integers`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`${where}: shape [${shape.join(', ')}] has ${count} elements but data has ${data.length}`);
    const bytes = littleEndianBytes(data);
    header[name] = { dtype, shape: shape.slice(), data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded > headerBytes.length) headerBytes = encoder.encode((json += ' '.repeat(padded - headerBytes.length)));
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function littleEndianBytes(data: TensorToWrite['data']): Uint8Array {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) return raw;
  const size = data.BYTES_PER_ELEMENT;
  const swapped = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += size) for (let j = 0; j < size; j++) swapped[i + j] = raw[i + size - 1 - j];
  return swapped;
}
