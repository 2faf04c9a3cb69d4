/**
 * A minimal ZIP reader for what `torch.save` writes: one disk, stored (uncompressed) entries,
 * ZIP64 when the archive is large. Entries come back as views into the file, never copied.
 * Format: PKWARE's APPNOTE.TXT, sections 4.3 (layout), 4.4 (fields) and 4.5.3 (ZIP64 extra field).
 *
 *   [local header + name + extra, data, (data descriptor)]…  [central directory]
 *   [ZIP64 end record, ZIP64 locator]?  [end-of-central-directory record + comment]
 *
 * The central directory is authoritative (torch writes local headers with zero sizes and a data
 * descriptor, flag bit 3); local headers are checked only for their signature and name. CRCs are
 * not checked: torch ≥ 2.4 can be told to write archives without them.
 */

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const ZIP64_EXTRA_ID = 0x0001;
/** A 16- or 32-bit field holding this means "the real value is in the ZIP64 record". */
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;

const METHOD_NAMES: Record<number, string> = { 8: 'deflate', 9: 'deflate64', 12: 'bzip2', 14: 'lzma', 93: 'zstd', 95: 'xz' };

/** Every entry's data by name, checked against the file's bounds. `source` names the file in errors. */
export function readZip(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number, what: string) => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} is ${v}, beyond any file this reader can hold`);
    return Number(v);
  };

  const eocd = findEndRecord(bytes, view);
  if (eocd < 0) {
    fail(`not a zip archive (no end-of-central-directory record in the last ${Math.min(bytes.length, EOCD_SIZE + MAX16)} bytes); truncated, or not a torch.save file?`);
  }
  if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0) fail('multi-disk zip archives are not supported');
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  if (u16(eocd + 8) !== count) fail(`end-of-central-directory record disagrees with itself (${u16(eocd + 8)} vs ${count} entries)`);
  // Where the central directory must end: at the ZIP64 end record if there is one, else at the EOCD.
  let cdLimit = eocd;

  const locator = eocd - ZIP64_LOCATOR_SIZE;
  const hasLocator = locator >= 0 && u32(locator) === SIG_ZIP64_LOCATOR;
  if (count === MAX16 || cdSize === MAX32 || cdOffset === MAX32 || hasLocator) {
    if (!hasLocator) fail('end-of-central-directory record defers to ZIP64 but there is no ZIP64 locator before it');
    if (u32(locator + 4) !== 0 || u32(locator + 16) !== 1) fail('multi-disk ZIP64 archives are not supported');
    const record = u64(locator + 8, 'ZIP64 end record offset');
    if (record + ZIP64_EOCD_SIZE > locator) fail(`ZIP64 end record at offset ${record} overlaps its locator at ${locator} (truncated?)`);
    if (u32(record) !== SIG_ZIP64_EOCD) fail(`no ZIP64 end record at offset ${record}`);
    const entriesHere = u64(record + 24, 'ZIP64 entry count');
    count = u64(record + 32, 'ZIP64 entry count');
    cdSize = u64(record + 40, 'ZIP64 central directory size');
    cdOffset = u64(record + 48, 'ZIP64 central directory offset');
    if (entriesHere !== count || u32(record + 16) !== 0 || u32(record + 20) !== 0) fail('multi-disk ZIP64 archives are not supported');
    cdLimit = record;
  }
  if (cdOffset + cdSize > cdLimit) {
    fail(`central directory (${cdSize} bytes at offset ${cdOffset}) runs past its end at offset ${cdLimit} (file of ${bytes.length} bytes; truncated?)`);
  }
  if (count * CENTRAL_SIZE > cdSize) fail(`central directory of ${cdSize} bytes cannot hold the ${count} entries it claims`);

  const entries = new Map<string, Uint8Array>();
  const cdEnd = cdOffset + cdSize;
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    const what = `central directory entry ${i} (offset ${at})`;
    if (at + CENTRAL_SIZE > cdEnd) fail(`${what} runs past the central directory's end at ${cdEnd}`);
    if (u32(at) !== SIG_CENTRAL) fail(`${what} has no central-header signature`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    let compressed = u32(at + 20);
    let size = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let disk = u16(at + 34);
    let local = u32(at + 42);
    const next = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (next > cdEnd) fail(`${what}: its name, extra field and comment (${next - at - CENTRAL_SIZE} bytes) run past the central directory's end`);
    const nameBytes = bytes.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength);
    const name = decodeName(nameBytes) ?? fail(`${what}: the entry name is not valid UTF-8`);
    const entry = `entry '${name}'`;
    if (entries.has(name)) fail(`${entry} appears twice in the central directory`);
    if (flags & 0x1) fail(`${entry} is encrypted`);

    // ZIP64 extra field: 8-byte values for exactly those fields that hold 0xFFFFFFFF, in this order.
    const wants = [size === MAX32, compressed === MAX32, local === MAX32, disk === MAX16];
    if (wants.some(Boolean)) {
      const extra = findExtra(view, at + CENTRAL_SIZE + nameLength, extraLength, ZIP64_EXTRA_ID);
      if (extra === undefined) fail(`${entry}: sizes or offset defer to a ZIP64 extra field that is missing or malformed`);
      const [start, length] = extra!;
      const needed = 8 * (Number(wants[0]) + Number(wants[1]) + Number(wants[2])) + 4 * Number(wants[3]);
      if (length < needed) fail(`${entry}: ZIP64 extra field holds ${length} bytes, ${needed} needed`);
      let p = start;
      const take = () => ((p += 8), u64(p - 8, `${entry}: ZIP64 value`));
      if (wants[0]) size = take();
      if (wants[1]) compressed = take();
      if (wants[2]) local = take();
      if (wants[3]) disk = u32(p);
    }
    if (disk !== 0) fail(`${entry} starts on disk ${disk}; multi-disk archives are not supported`);
    if (method !== 0) {
      const label = METHOD_NAMES[method] ? `${method}, ${METHOD_NAMES[method]}` : `${method}`;
      fail(`${entry} is compressed (method ${label}); only stored entries (method 0), which torch.save writes, are supported`);
    }
    if (compressed !== size) fail(`${entry} is stored but its compressed size ${compressed} differs from its size ${size}`);

    if (local + LOCAL_SIZE > cdOffset) fail(`${entry}: local header at offset ${local} is not before the central directory at ${cdOffset}`);
    if (u32(local) !== SIG_LOCAL) fail(`${entry}: no local header at offset ${local}`);
    const localName = local + LOCAL_SIZE;
    const localNameLength = u16(local + 26);
    const dataStart = localName + localNameLength + u16(local + 28);
    if (localNameLength !== nameLength || !sameBytes(bytes, localName, nameBytes)) {
      fail(`${entry}: the local header at offset ${local} names a different entry`);
    }
    if (!(flags & 0x8)) {
      // Without a data descriptor the local sizes must agree (or defer to ZIP64 themselves).
      const [lc, ls] = [u32(local + 18), u32(local + 22)];
      if ((lc !== MAX32 && lc !== compressed) || (ls !== MAX32 && ls !== size)) {
        fail(`${entry}: local header sizes (${lc}, ${ls}) disagree with the central directory's (${compressed}, ${size})`);
      }
    }
    if (dataStart + size > cdOffset) {
      fail(`${entry}: ${size} data bytes at offset ${dataStart} run past the central directory at ${cdOffset} (truncated?)`);
    }
    entries.set(name, bytes.subarray(dataStart, dataStart + size));
    at = next;
  }
  return entries;
}

/** The offset of the end-of-central-directory record: the last signature whose comment ends the file. */
function findEndRecord(bytes: Uint8Array, view: DataView): number {
  const lowest = Math.max(0, bytes.length - EOCD_SIZE - MAX16);
  for (let at = bytes.length - EOCD_SIZE; at >= lowest; at--) {
    if (view.getUint32(at, true) === SIG_EOCD && at + EOCD_SIZE + view.getUint16(at + 20, true) === bytes.length) return at;
  }
  return -1;
}

/** [data offset, length] of the extra-field block with this id, or undefined if absent or malformed. */
function findExtra(view: DataView, start: number, length: number, id: number): [number, number] | undefined {
  const end = start + length;
  for (let p = start; p + 4 <= end; ) {
    const size = view.getUint16(p + 2, true);
    if (p + 4 + size > end) return undefined;
    if (view.getUint16(p, true) === id) return [p + 4, size];
    p += 4 + size;
  }
  return undefined;
}

function sameBytes(bytes: Uint8Array, at: number, want: Uint8Array): boolean {
  if (at + want.length > bytes.length) return false;
  for (let i = 0; i < want.length; i++) if (bytes[at + i] !== want[i]) return false;
  return true;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeName(b: Uint8Array): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}
