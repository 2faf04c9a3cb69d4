/**
 * A minimal protocol-buffers *writer*, just enough to serialise the tiny ONNX
 * models built in gemm-model.ts. We only ever write, never parse, so there is
 * no need for a protobuf dependency: ONNX files are plain protobuf wire format.
 *
 * Wire types used: 0 (varint) for ints/enums/int64, 2 (length-delimited) for
 * strings, bytes, sub-messages and packed repeated ints.
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

const utf8 = new TextEncoder();

export class ProtoWriter {
  private readonly bytes: number[] = [];

  /** Unsigned varint; values here are small non-negative ints (dims, enums, versions). */
  private varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`ProtoWriter: varint must be a non-negative safe integer, got ${value}`);
    }
    // Division instead of >>> so values above 2^31 stay exact.
    let v = value;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** int32 / int64 / enum field (non-negative values only). */
  int(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  bytesField(field: number, data: Uint8Array | readonly number[]): this {
    this.tag(field, WIRE_LEN);
    this.varint(data.length);
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, utf8.encode(value));
  }

  /** Embedded message: length-prefixed bytes of another writer. */
  message(field: number, sub: ProtoWriter): this {
    return this.bytesField(field, sub.bytes);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}
