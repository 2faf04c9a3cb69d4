/**
 * Builds the bytes of one-node ONNX models for matrix products, so that no
 * model file has to ship with the package. All dims are symbolic (dim_param),
 * so one session per (op kind, transA, transB) serves every shape.
 *
 * Field numbers follow onnx/onnx.proto (ModelProto, GraphProto, NodeProto,
 * AttributeProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto).
 */
import { ProtoWriter } from './proto-writer.js';

const IR_VERSION = 8;
const OPSET = 13;
const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT8 = 3;
/** onnxruntime's contrib operators (DynamicQuantizeMatMul). */
const MS_DOMAIN = 'com.microsoft';
const ATTR_INT = 2; // AttributeProto.AttributeType.INT
const ATTR_INTS = 7; // AttributeProto.AttributeType.INTS

/** Names of the graph's inputs/output, shared with the worker that feeds them. */
export const INPUT_A = 'A';
export const INPUT_B = 'B';
export const INPUT_SCALE = 'S';
export const INPUT_BIAS = 'Bias';
export const OUTPUT = 'Y';

export type ModelKind = 'gemm' | 'batched' | 'q8' | 'q8-bias';

function valueInfo(name: string, dims: readonly string[], elemType = FLOAT): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, new ProtoWriter().string(2, d)); // dim { dim_param }
  const tensorType = new ProtoWriter().int(1, elemType).message(2, shape); // elem_type, shape
  const type = new ProtoWriter().message(1, tensorType); // TypeProto.tensor_type
  return new ProtoWriter().string(1, name).message(2, type);
}

function intAttr(name: string, value: number): ProtoWriter {
  return new ProtoWriter().string(1, name).int(20, ATTR_INT).int(3, value);
}

function intsAttr(name: string, values: readonly number[]): ProtoWriter {
  const w = new ProtoWriter().string(1, name).int(20, ATTR_INTS);
  for (const v of values) w.int(8, v); // repeated int64 ints = 8 (unpacked)
  return w;
}

function node(op: string, inputs: readonly string[], output: string, attrs: readonly ProtoWriter[], domain = ''): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of inputs) w.string(1, i);
  w.string(2, output).string(3, `${op}_${output}`).string(4, op);
  for (const a of attrs) w.message(5, a);
  if (domain) w.string(7, domain);
  return w;
}

function model(nodes: readonly ProtoWriter[], inputs: readonly ProtoWriter[], output: ProtoWriter): Uint8Array {
  const graph = new ProtoWriter();
  for (const n of nodes) graph.message(1, n);
  graph.string(2, 'native_gemm');
  for (const i of inputs) graph.message(11, i);
  graph.message(12, output);
  return new ProtoWriter()
    .int(1, IR_VERSION)
    .string(2, 'nystromformer')
    .message(8, new ProtoWriter().string(1, '').int(2, OPSET))
    .message(8, new ProtoWriter().string(1, MS_DOMAIN).int(2, 1))
    .message(7, graph)
    .finish();
}

/** Y[M,N] = op(A)·op(B) with ONNX Gemm (no bias input, alpha = 1). */
export function buildGemmModel(transA: boolean, transB: boolean): Uint8Array {
  const a = valueInfo(INPUT_A, transA ? ['K', 'M'] : ['M', 'K']);
  const b = valueInfo(INPUT_B, transB ? ['N', 'K'] : ['K', 'N']);
  const y = valueInfo(OUTPUT, ['M', 'N']);
  const gemm = node('Gemm', [INPUT_A, INPUT_B], OUTPUT, [
    intAttr('transA', transA ? 1 : 0),
    intAttr('transB', transB ? 1 : 0),
  ]);
  return model([gemm], [a, b], y);
}

/**
 * Y[S,M,N] = op(A[s])·op(B[s]) with MatMul. ONNX MatMul has no transpose flags,
 * so transposed operands go through a Transpose(perm 0,2,1) node; onnxruntime's
 * 'all' optimisation level fuses Transpose+MatMul into one FusedMatMul kernel,
 * so no transposed copy is materialised.
 */
export function buildBatchedMatMulModel(transA: boolean, transB: boolean): Uint8Array {
  const a = valueInfo(INPUT_A, transA ? ['S', 'K', 'M'] : ['S', 'M', 'K']);
  const b = valueInfo(INPUT_B, transB ? ['S', 'N', 'K'] : ['S', 'K', 'N']);
  const y = valueInfo(OUTPUT, ['S', 'M', 'N']);
  const nodes: ProtoWriter[] = [];
  let aName = INPUT_A;
  let bName = INPUT_B;
  if (transA) {
    aName = 'At';
    nodes.push(node('Transpose', [INPUT_A], aName, [intsAttr('perm', [0, 2, 1])]));
  }
  if (transB) {
    bName = 'Bt';
    nodes.push(node('Transpose', [INPUT_B], bName, [intsAttr('perm', [0, 2, 1])]));
  }
  nodes.push(node('MatMul', [aName, bName], OUTPUT, []));
  return model(nodes, [a, b], y);
}

/**
 * Y[M,N] = X·Wᵀ (+ Bias) with W as int8 codes [N,K] and one scale per row of W: a Transpose, then
 * onnxruntime's DynamicQuantizeMatMul, which quantizes X per tensor to uint8 and runs MLAS's
 * int8 GEMM (VNNI where the CPU has it).
 */
export function buildQ8Model(withBias: boolean): Uint8Array {
  const inputs = [valueInfo(INPUT_A, ['M', 'K']), valueInfo(INPUT_B, ['N', 'K'], INT8), valueInfo(INPUT_SCALE, ['N'])];
  if (withBias) inputs.push(valueInfo(INPUT_BIAS, ['N']));
  const nodes = [
    node('Transpose', [INPUT_B], 'Bt', [intsAttr('perm', [1, 0])]),
    // inputs: A, B, b_scale, b_zero_point (none: symmetric), bias
    node('DynamicQuantizeMatMul', [INPUT_A, 'Bt', INPUT_SCALE, '', ...(withBias ? [INPUT_BIAS] : [])], OUTPUT, [], MS_DOMAIN),
  ];
  return model(nodes, inputs, valueInfo(OUTPUT, ['M', 'N']));
}

export function buildModel(kind: ModelKind, transA: boolean, transB: boolean): Uint8Array {
  if (kind === 'q8' || kind === 'q8-bias') return buildQ8Model(kind === 'q8-bias');
  return kind === 'gemm' ? buildGemmModel(transA, transB) : buildBatchedMatMulModel(transA, transB);
}
