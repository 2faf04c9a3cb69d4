/**
 * The building blocks shared by the encoder and the task heads as ONNX nodes: parameters as
 * initializers (each tensor stored once per graph, so a tied decoder reuses the embedding table),
 * Linear, LayerNorm, the activations.
 */
import { readQ8WeightsSync, type Q8Weights, type Tensor } from '../engine/index.js';
import { attr, type OnnxGraph } from './onnx-graph.js';

/** A Linear layer: float32 `weight`, or (when `q8` is set) 8-bit codes, its weight then unread. */
export interface LinearLike { weight: Tensor; bias: Tensor | null; q8?: Q8Weights | null }
export interface LayerNormLike { weight: Tensor; bias: Tensor }

/** Initializer names by graph and tensor: a parameter used twice (tied weights) is stored once. */
const stored = new WeakMap<OnnxGraph, Map<Tensor, string>>();
/** Likewise for the (in, out) copies linear stores: a layer applied twice (the LRA dual encoder) is stored once. */
const storedTransposed = new WeakMap<OnnxGraph, Map<Tensor, string>>();

/** A parameter as a float32 initializer with its own shape. */
export function weight(g: OnnxGraph, name: string, t: Tensor): string {
  let names = stored.get(g);
  if (!names) stored.set(g, (names = new Map()));
  const known = names.get(t);
  if (known) return known;
  const created = g.weight(name, t.toArray() as Float32Array, t.shape);
  names.set(t, created);
  return created;
}

/**
 * x·Wᵀ + b, with Wᵀ stored (in, out) so that MatMul needs no transpose; a weight already stored
 * (the MLM decoder tied to the embedding table) is read through a Transpose instead of stored twice.
 */
export function linear(g: OnnxGraph, layer: LinearLike, x: string, name: string): string {
  if (layer.q8) return linearQ8(g, layer.q8, layer.bias, x, name);
  const known = stored.get(g)?.get(layer.weight);
  const wt = known ? g.node('Transpose', [known], { perm: attr.ints([1, 0]) }, `${name}_weight_t`) : transposedWeight(g, layer.weight, `${name}_weight_t`);
  const y = g.node('MatMul', [x, wt]);
  return layer.bias ? g.node('Add', [y, weight(g, `${name}_bias`, layer.bias)], {}, name) : y;
}

/**
 * An 8-bit Linear layer in the form onnxruntime's dynamic quantization writes (and transformers.js's
 * q8 models hold): DynamicQuantizeLinear quantizes x per tensor to uint8, MatMulInteger multiplies
 * by the int8 codes (stored (in, out)), and the int32 sums are scaled back by x's scale times each
 * output channel's. onnxruntime fuses the chain into one int8 GEMM.
 */
function linearQ8(g: OnnxGraph, q8: Q8Weights, bias: Tensor | null, x: string, name: string): string {
  const { outFeatures: n, inFeatures: k } = q8;
  const { codes, scale } = readQ8WeightsSync(q8);
  const wq = g.weight(`${name}_weight_quantized`, transposed(codes, n, k), [k, n]);
  const ws = g.weight(`${name}_weight_scale`, scale, [n]);
  const [xq, xScale, xZero] = g.nodeN('DynamicQuantizeLinear', [x], 3, {}, `${name}_input_quantized`);
  const sums = g.node('MatMulInteger', [xq, wq, xZero], {}, `${name}_matmul_integer`);
  const y = g.node('Mul', [g.node('Cast', [sums], { to: attr.int(1) }), g.node('Mul', [xScale, ws], {}, `${name}_scale`)]);
  return bias ? g.node('Add', [y, weight(g, `${name}_bias`, bias)], {}, name) : y;
}

/** W (out, in) stored as Wᵀ (in, out), once per graph. */
function transposedWeight(g: OnnxGraph, w: Tensor, name: string): string {
  let names = storedTransposed.get(g);
  if (!names) storedTransposed.set(g, (names = new Map()));
  const known = names.get(w);
  if (known) return known;
  const created = g.weight(name, transposed(w.toArray() as Float32Array, w.shape[0], w.shape[1]), [w.shape[1], w.shape[0]]);
  names.set(w, created);
  return created;
}

/** A row-major (rows, cols) matrix as (cols, rows): a weight (out, in) as (in, out). */
function transposed<T extends Float32Array | Int8Array>(m: T, rows: number, cols: number): T {
  const t = new (m.constructor as new (length: number) => T)(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

export function layerNorm(g: OnnxGraph, norm: LayerNormLike, x: string, eps: number, name: string): string {
  const scale = weight(g, `${name}_ln_weight`, norm.weight);
  const bias = weight(g, `${name}_ln_bias`, norm.bias);
  return g.node('LayerNormalization', [x, scale, bias], { axis: attr.int(-1), epsilon: attr.float(eps) }, `${name}_ln`);
}

/** Hugging Face's ACT2FN entries that config.ts accepts (models/activations.ts). */
export function activation(g: OnnxGraph, name: string, x: string): string {
  switch (name) {
    case 'gelu':
    case 'gelu_python': {
      // x·Φ(x) = ½x(1 + erf(x/√2))
      const erf = g.node('Erf', [g.node('Div', [x, g.floats([Math.SQRT2])])]);
      return g.node('Mul', [g.node('Mul', [x, g.floats([0.5])]), g.node('Add', [erf, g.floats([1])])], {}, 'gelu');
    }
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast': {
      // ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
      const cube = g.node('Mul', [g.node('Mul', [x, x]), x]);
      const inner = g.node('Mul', [g.node('Add', [x, g.node('Mul', [cube, g.floats([0.044715])])]), g.floats([Math.sqrt(2 / Math.PI)])]);
      return g.node('Mul', [g.node('Mul', [x, g.floats([0.5])]), g.node('Add', [g.node('Tanh', [inner]), g.floats([1])])], {}, 'gelu_tanh');
    }
    case 'relu': return g.node('Relu', [x]);
    case 'tanh': return g.node('Tanh', [x]);
    case 'sigmoid': return g.node('Sigmoid', [x]);
    default: throw new Error(`exportOnnx: no ONNX form for hidden_act '${name}'`);
  }
}
