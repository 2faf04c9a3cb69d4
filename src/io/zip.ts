/**
 * A minimal ZIP reader for what `torch.save` writes: the central directory (ZIP64 included) and
 * stored (uncompressed) entries, returned as views into the file without copying.
 * Format: https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT (sections 4.3, 4.4).
 */

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Every entry's data by name. */
export function readZip(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  const u16 = (at: number) => (at + 2 <= bytes.length ? view.getUint16(at, true) : fail(`truncated zip (offset ${at})`));
  const u32 = (at: number) => (at + 4 <= bytes.length ? view.getUint32(at, true) : fail(`truncated zip (offset ${at})`));
  const u64 = (at: number) => {
    if (at + 8 > bytes.length) fail(`truncated zip (offset ${at})`);
    const v = view.getBigUint64(at, true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? fail(`zip field at ${at} is too large`) : Number(v);
  };

  // The end-of-central-directory record sits in the last 22 + 65535 bytes (comment).
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 65535); at--) {
    if (view.getUint32(at, true) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) fail('not a zip archive (no end-of-central-directory record); is the file truncated?');
  let count = u16(eocd + 10);
  let size = u32(eocd + 12);
  let offset = u32(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || u32(locator) !== ZIP64_LOCATOR) fail('ZIP64 archive without a ZIP64 locator');
    const record = u64(locator + 8);
    if (u32(record) !== ZIP64_EOCD) fail('bad ZIP64 end-of-central-directory record');
    count = u64(record + 32);
    size = u64(record + 40);
    offset = u64(record + 48);
  }
  if (offset + size > bytes.length) fail(`central directory (${size} bytes at ${offset}) runs past the end of the file (${bytes.length} bytes)`);

  const entries = new Map<string, Uint8Array>();
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (u32(at) !== CENTRAL) fail(`bad central directory entry ${i} at offset ${at}`);
    const method = u16(at + 10);
    let compressed = u32(at + 20);
    let uncompressed = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let local = u32(at + 42);
    if (at + 46 + nameLength > bytes.length) fail(`truncated central directory entry ${i}`);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    // ZIP64 extra field: the 64-bit values of whichever fields hold 0xFFFFFFFF, in this order.
    for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength; ) {
      const id = u16(e);
      const length = u16(e + 2);
      if (id === 0x0001) {
        let p = e + 4;
        if (uncompressed === 0xffffffff) (uncompressed = u64(p)), (p += 8);
        if (compressed === 0xffffffff) (compressed = u64(p)), (p += 8);
        if (local === 0xffffffff) local = u64(p);
      }
      e += 4 + length;
    }
    if (method !== 0) fail(`entry '${name}' is compressed (method ${method}); only stored entries, as torch.save writes, are supported`);
    if (compressed !== uncompressed) fail(`entry '${name}' claims ${compressed} stored bytes but ${uncompressed} uncompressed`);
    if (u32(local) !== LOCAL) fail(`entry '${name}': no local header at offset ${local}`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (start + compressed > bytes.length) fail(`entry '${name}' (${compressed} bytes at ${start}) runs past the end of the file (${bytes.length} bytes)`);
    entries.set(name, bytes.subarray(start, start + compressed));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
