/**
 * The one protocol-buffers writer, for ONNX files: the native GEMM's one-node models
 * (gemm-model.ts) and whole exported models (runtime/onnx-graph.ts). We only ever write, so no
 * protobuf dependency. A model needs floats (LayerNormalization's epsilon), negative ints
 * (axis −1) and hundreds of megabytes of weights, so a message is a list of chunks that are
 * only joined once, by finish().
 *
 * Wire types: 0 varint (ints, enums, int64 two's complement), 2 length-delimited (strings,
 * bytes, sub-messages), 5 fixed 32-bit (float).
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** Protobuf's message size limit; bigger ONNX models need external data, which is not written here. */
export const MAX_PROTO_BYTES = 2 ** 31 - 1;

const utf8 = new TextEncoder();

export class ProtoWriter {
  readonly #chunks: Uint8Array[] = [];
  #length = 0;
  /** Small writes collect here before becoming a chunk. */
  #pending: number[] = [];

  get length(): number {
    return this.#length + this.#pending.length;
  }

  /** A varint of any safe integer; negatives as 64-bit two's complement (10 bytes), as int64 wants. */
  #varint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`ProtoWriter: varint must be a safe integer, got ${value}`);
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.#pending.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#pending.push(Number(v));
  }

  #tag(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    this.#chunks.push(Uint8Array.from(this.#pending));
    this.#length += this.#pending.length;
    this.#pending = [];
  }

  #append(chunks: readonly Uint8Array[]): void {
    this.#flush();
    for (const c of chunks) {
      this.#chunks.push(c);
      this.#length += c.length;
    }
  }

  /** int32 / int64 / enum / bool field. */
  int(field: number, value: number): this {
    this.#tag(field, WIRE_VARINT);
    this.#varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.#tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#pending.push(...b);
    return this;
  }

  /** Bytes, kept by reference (not copied until finish). */
  bytes(field: number, data: Uint8Array): this {
    this.#tag(field, WIRE_LEN);
    this.#varint(data.length);
    this.#append([data]);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** Embedded message: the sub-writer's chunks, length-prefixed. */
  message(field: number, sub: ProtoWriter): this {
    sub.#flush();
    this.#tag(field, WIRE_LEN);
    this.#varint(sub.#length);
    this.#append(sub.#chunks);
    return this;
  }

  finish(): Uint8Array {
    this.#flush();
    if (this.#length > MAX_PROTO_BYTES) {
      throw new RangeError(`ProtoWriter: the message is ${this.#length} bytes, over protobuf's 2 GiB limit`);
    }
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
