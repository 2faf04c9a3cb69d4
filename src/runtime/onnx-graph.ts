/**
 * A tiny ONNX graph builder: initializers, nodes with attributes, inputs and outputs with
 * symbolic dims, subgraphs (for If), serialised to ModelProto bytes.
 *
 * Field numbers follow onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto).
 */
import { ProtoWriter } from '../engine/native/proto-writer.js';

export const IR_VERSION = 8;
export const OPSET = 17;

export type ElemType = 'float32' | 'int64' | 'bool' | 'int8';
/** A fixed size, or a symbolic one ('batch', 'sequence'). */
export type Dim = number | string;

/** TensorProto.DataLocation */
const DATA_LOCATION_EXTERNAL = 1;

/** TensorProto.DataType */
const DATA_TYPE: Record<ElemType, number> = { float32: 1, int64: 7, bool: 9, int8: 3 };

export type Attribute =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'float'; value: number }
  | { kind: 'graph'; value: OnnxGraph };

export const attr = {
  int: (value: number): Attribute => ({ kind: 'int', value }),
  ints: (value: readonly number[]): Attribute => ({ kind: 'ints', value }),
  float: (value: number): Attribute => ({ kind: 'float', value }),
  graph: (value: OnnxGraph): Attribute => ({ kind: 'graph', value }),
};

/** AttributeProto.AttributeType */
const ATTR_TYPE = { float: 1, int: 2, graph: 5, ints: 7 } as const;

type TensorData = Float32Array | BigInt64Array | Int8Array;

interface ValueInfo { name: string; type: ElemType; dims?: readonly Dim[] }

/** Value names are unique across a model, subgraphs included: they share one counter. */
class Names {
  #used = new Set<string>();

  unique(hint: string): string {
    let name = hint;
    for (let i = 1; this.#used.has(name); i++) name = `${hint}_${i}`;
    this.#used.add(name);
    return name;
  }

  claim(name: string): string {
    if (this.#used.has(name)) throw new Error(`OnnxGraph: the name '${name}' is already used`);
    this.#used.add(name);
    return name;
  }
}

export class OnnxGraph {
  readonly #names: Names;
  readonly #nodes: ProtoWriter[] = [];
  /** Weights, kept as data until serialised: inline or as external data is decided then. */
  readonly #weights: Initializer[] = [];
  readonly #initializers: ProtoWriter[] = [];
  readonly #inputs: ValueInfo[] = [];
  readonly #outputs: ValueInfo[] = [];
  /** Small constants by value, so that each is stored once. */
  readonly #constants = new Map<string, string>();

  constructor(readonly name: string, names?: Names) {
    this.#names = names ?? new Names();
  }

  /** A graph for an If branch: it may read this graph's values by name. */
  subgraph(name: string): OnnxGraph {
    return new OnnxGraph(name, this.#names);
  }

  input(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.#names.claim(name);
    this.#inputs.push({ name, type, dims });
    return name;
  }

  /** Marks an existing value as a graph output (dims optional in subgraphs). */
  output(name: string, type: ElemType, dims?: readonly Dim[]): void {
    this.#outputs.push({ name, type, dims });
  }

  /** A float32 (or int8: 8-bit codes) tensor stored in the file (weights). */
  weight(hint: string, data: Float32Array | Int8Array, dims: readonly number[]): string {
    checkSize(hint, data.length, dims);
    const name = this.#names.unique(hint);
    this.#weights.push({ name, data, dims });
    return name;
  }

  /** Bytes of the weights (not the small constants). */
  get weightBytes(): number {
    return this.#weights.reduce((sum, w) => sum + w.data.byteLength, 0);
  }

  /** The graph's outputs, in order. */
  get outputNames(): string[] {
    return this.#outputs.map((o) => o.name);
  }

  /** A small float32 constant; a scalar unless dims are given. */
  floats(values: readonly number[] | Float32Array, dims: readonly number[] = []): string {
    return this.#constant('float32', Float32Array.from(values), dims);
  }

  /** A small int64 constant; 1-D unless dims are given. */
  ints(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.#constant('int64', BigInt64Array.from(values.map((v) => BigInt(v))), dims);
  }

  #constant(type: ElemType, data: Float32Array | BigInt64Array, dims: readonly number[]): string {
    checkSize('constant', data.length, dims);
    // Only short constants are shared: keying a long one would cost more than storing it twice.
    const key = data.length <= 64 ? `${type}|${dims.join(',')}|${data.join(',')}` : null;
    const known = key === null ? undefined : this.#constants.get(key);
    if (known) return known;
    const name = this.#names.unique(type === 'float32' ? 'const_f' : 'const_i');
    this.#initializers.push(tensorProto(name, type, data, dims));
    if (key !== null) this.#constants.set(key, name);
    return name;
  }

  /**
   * Adds a node with one output and returns the output's name (`hint`, made unique). onnxruntime
   * quotes `nodeName` in its errors: a node that fails on bad inputs can say why there.
   */
  node(op: string, inputs: readonly string[], attrs: Record<string, Attribute> = {}, hint = op.toLowerCase(), nodeName?: string): string {
    return this.nodeN(op, inputs, 1, attrs, hint, nodeName)[0];
  }

  /** Adds a node with `count` outputs. */
  nodeN(
    op: string, inputs: readonly string[], count: number, attrs: Record<string, Attribute> = {}, hint = op.toLowerCase(), nodeName?: string,
  ): string[] {
    const outputs = Array.from({ length: count }, (_, i) => this.#names.unique(count === 1 ? hint : `${hint}_out${i}`));
    const w = new ProtoWriter();
    for (const i of inputs) w.string(1, i);
    for (const o of outputs) w.string(2, o);
    w.string(3, this.#names.unique(nodeName ?? `${op}_${outputs[0]}`)).string(4, op);
    for (const [name, a] of Object.entries(attrs)) w.message(5, attributeProto(name, a));
    this.#nodes.push(w);
    return outputs;
  }

  /** GraphProto; with `external`, the weights' bytes go there and the protos point at them. */
  toProto(external?: ExternalData): ProtoWriter {
    const g = new ProtoWriter();
    for (const n of this.#nodes) g.message(1, n);
    g.string(2, this.name);
    for (const w of this.#weights) g.message(5, external ? external.add(w) : tensorProto(w.name, weightType(w), w.data, w.dims));
    for (const t of this.#initializers) g.message(5, t);
    for (const i of this.#inputs) g.message(11, valueInfoProto(i));
    for (const o of this.#outputs) g.message(12, valueInfoProto(o));
    return g;
  }

  /** ModelProto bytes (IR version 8, default domain at opset 17), weights inline. */
  toModel(producer = 'nystromformer'): Uint8Array {
    return modelProto(this.toProto(), producer).finish();
  }

  /**
   * ModelProto bytes whose weights live in a second file, `location` (a path relative to the
   * model file), for models past protobuf's 2 GiB: `data` is that file's content.
   */
  toModelWithExternalData(location: string, producer = 'nystromformer'): { model: Uint8Array; data: Uint8Array } {
    const external = new ExternalData(location);
    const model = modelProto(this.toProto(external), producer).finish();
    return { model, data: external.finish() };
  }
}

function modelProto(graph: ProtoWriter, producer: string): ProtoWriter {
  const opset = new ProtoWriter().string(1, '').int(2, OPSET);
  return new ProtoWriter().int(1, IR_VERSION).string(2, producer).message(8, opset).message(7, graph);
}

interface Initializer { name: string; data: Float32Array | Int8Array; dims: readonly number[] }

const weightType = (w: Initializer): ElemType => (w.data instanceof Int8Array ? 'int8' : 'float32');

/** Alignment of each tensor in the external file, so that a memory-mapped reader gets aligned floats. */
const EXTERNAL_ALIGN = 4096;

/** Collects weights for an external data file and writes the TensorProtos that point into it. */
class ExternalData {
  readonly #chunks: Initializer[] = [];
  readonly #offsets: number[] = [];
  #end = 0;

  constructor(readonly location: string) {}

  /** TensorProto with data_location = EXTERNAL and external_data {location, offset, length}. */
  add(w: Initializer): ProtoWriter {
    const offset = Math.ceil(this.#end / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
    this.#chunks.push(w);
    this.#offsets.push(offset);
    this.#end = offset + w.data.byteLength;
    const p = new ProtoWriter();
    for (const d of w.dims) p.int(1, d);
    p.int(2, DATA_TYPE[weightType(w)]).string(8, w.name);
    const entry = (key: string, value: string) => new ProtoWriter().string(1, key).string(2, value);
    p.message(13, entry('location', this.location)).message(13, entry('offset', String(offset))).message(13, entry('length', String(w.data.byteLength)));
    return p.int(14, DATA_LOCATION_EXTERNAL);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#end);
    this.#chunks.forEach((w, i) => out.set(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength), this.#offsets[i]));
    return out;
  }
}

function checkSize(what: string, length: number, dims: readonly number[]): void {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== length) throw new Error(`OnnxGraph: ${what} has ${length} values but dims [${dims.join(', ')}] hold ${size}`);
}

/** TensorProto with raw_data: ONNX wants little-endian, which is every platform Node runs on. */
function tensorProto(name: string, type: ElemType, data: TensorData, dims: readonly number[]): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of dims) w.int(1, d);
  w.int(2, DATA_TYPE[type]).string(8, name);
  return w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function attributeProto(name: string, a: Attribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name).int(20, ATTR_TYPE[a.kind]);
  switch (a.kind) {
    case 'float': return w.float(2, a.value);
    case 'int': return w.int(3, a.value);
    case 'graph': return w.message(6, a.value.toProto());
    case 'ints':
      for (const v of a.value) w.int(8, v);
      return w;
  }
}

function valueInfoProto({ name, type, dims }: ValueInfo): ProtoWriter {
  const tensorType = new ProtoWriter().int(1, DATA_TYPE[type]);
  if (dims) {
    const shape = new ProtoWriter();
    for (const d of dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
    tensorType.message(2, shape);
  }
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}
