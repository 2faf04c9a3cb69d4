/**
 * 8-bit products for inference (docs/quantization.md): weights as int8 codes, symmetric, one
 * scale per output channel; activations quantized per row at run time to 7-bit codes with a
 * zero point (kernels/quantized.ts says why 7); int32 sums; float32 out. Not differentiable.
 */
import { isGradEnabled } from '../autograd.js';
import { paddedLength } from '../backend/linear-q8.js';
import { backend } from '../engine.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';
import { empty, withContiguous } from './kernel.js';

const MAX_CODE = 127;

/** Weights [outFeatures, inFeatures] as the kernels read them; one per q8 Linear layer. */
export interface Q8Weights {
  readonly outFeatures: number;
  readonly inFeatures: number;
  /** int32 [out, kPad / 4]: four int8 codes per word, little-endian, each row padded with 0. */
  readonly codes: Tensor;
  /** float32 [out]: w ≈ code · scale. */
  readonly scale: Tensor;
  /** int32 [out]: each row's sum of codes (the zero point's correction). */
  readonly sums: Tensor;
}

/** Codes and scales of float32 weights [n, k]: scale = max |w_j| / 127 (1 for an all-zero row), codes rounded half to even. */
export function quantizeWeights(w: Float32Array, n: number, k: number): { codes: Int8Array; scale: Float32Array } {
  if (w.length !== n * k) throw new Error(`quantizeWeights: ${w.length} values are not [${n}, ${k}]`);
  const codes = new Int8Array(n * k);
  const scale = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const row = w.subarray(j * k, (j + 1) * k);
    let amax = 0;
    for (const v of row) {
      if (!Number.isFinite(v)) throw new Error(`quantizeWeights: row ${j} holds ${v}`);
      amax = Math.max(amax, Math.abs(v));
    }
    scale[j] = amax > 0 ? amax / MAX_CODE : 1;
    for (let p = 0; p < k; p++) codes[j * k + p] = Math.max(-MAX_CODE, Math.min(MAX_CODE, roundHalfEven(row[p] / scale[j])));
  }
  return { codes, scale };
}

/** The kernels' form of saved codes [n, k] and scales [n]: padded rows, packed words, row sums. */
export function q8Weights(codes: Int8Array, scale: Float32Array, n: number, k: number): Q8Weights {
  if (codes.length !== n * k || scale.length !== n) {
    throw new Error(`q8Weights: ${codes.length} codes and ${scale.length} scales do not make [${n}, ${k}]`);
  }
  const kPad = paddedLength(k);
  const padded = new Int8Array(n * kPad);
  const sums = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const row = codes.subarray(j * k, (j + 1) * k);
    padded.set(row, j * kPad);
    sums[j] = row.reduce((s, c) => s + c, 0);
  }
  return {
    outFeatures: n,
    inFeatures: k,
    codes: Tensor.from(new Int32Array(padded.buffer), [n, kPad / 4], 'int32'),
    scale: Tensor.from(scale, [n]),
    sums: Tensor.from(sums, [n], 'int32'),
  };
}

/** y = x·Wᵀ + bias over the last axis of x [..., inFeatures], with W in 8 bits. */
export function linearQ8(x: Tensor, w: Q8Weights, bias: Tensor | null = null): Tensor {
  const k = w.inFeatures;
  const n = w.outFeatures;
  if (x.dtype !== 'float32' || x.shape[x.rank - 1] !== k) {
    throw new Error(`linearQ8 (${k} → ${n}): input ${x.dtype} ${fmt(x.shape)} must be float32 with ${k} features`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== n)) throw new Error(`linearQ8: bias ${fmt(bias.shape)} is not [${n}]`);
  if (isGradEnabled() && (x.requiresGrad || x.node)) {
    throw new Error('linearQ8: 8-bit layers are for inference and have no gradient; run under noGrad(), or train in float32');
  }
  const rows = x.size / k;
  const y = empty([...x.shape.slice(0, -1), n]);
  if (rows === 0) return y;
  withContiguous(bias ? [x, bias] : [x], (xc, b) => {
    backend().linearQ8({ x: xc, codes: w.codes, scale: w.scale, sums: w.sums, bias: b ?? null, y, rows, k, n });
  });
  return y;
}

/** The saved form back from the kernels' form: codes [n, k] without padding, and scales [n]. */
export async function readQ8Weights(w: Q8Weights): Promise<{ codes: Int8Array; scale: Float32Array }> {
  return { codes: unpadCodes(w, (await w.codes.read()) as Int32Array), scale: (await w.scale.read()) as Float32Array };
}

/** readQ8Weights on a CPU backend, at once (the ONNX exporter's synchronous reads). */
export function readQ8WeightsSync(w: Q8Weights): { codes: Int8Array; scale: Float32Array } {
  return { codes: unpadCodes(w, w.codes.toArray() as Int32Array), scale: w.scale.toArray() as Float32Array };
}

function unpadCodes(w: Q8Weights, words: Int32Array): Int8Array {
  const n = w.outFeatures;
  const k = w.inFeatures;
  const kPad = paddedLength(k);
  const padded = new Int8Array(words.buffer, words.byteOffset, words.byteLength);
  const codes = new Int8Array(n * k);
  for (let j = 0; j < n; j++) codes.set(padded.subarray(j * kPad, j * kPad + k), j * k);
  return codes;
}

export function disposeQ8Weights(w: Q8Weights): void {
  for (const t of [w.codes, w.scale, w.sums]) t.dispose();
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
