/**
 * Landmark pooling (docs/algorithm.md §1.2, §1.7): each of m landmarks is the plain mean of a contiguous
 * segment of rows. With s = ⌊n/m⌋ the first (s+1)·m − n segments have s rows and the rest s+1,
 * so n divisible by m gives the official equal segments.
 */
import { empty, fmt, record, runKernel, sameShape, Tensor, withContiguous } from '../engine/index.js';

/** Row ranges [start, end) of the m segments of n rows. */
export function segmentBounds(n: number, m: number): [number, number][] {
  const s = Math.floor(n / m);
  const short = (s + 1) * m - n;
  const bounds: [number, number][] = [];
  let start = 0;
  for (let j = 0; j < m; j++) {
    const len = j < short ? s : s + 1;
    bounds.push([start, start + len]);
    start += len;
  }
  return bounds;
}

/** Landmarks of x (B, H, n, d): the m segment means along n → (B, H, m, d). Kernel: segments.ts. */
export function segmentMeans(x: Tensor, m: number): Tensor {
  if (x.rank !== 4) throw new Error(`segmentMeans: x must be (B, H, n, d), got ${fmt(x.shape)}`);
  const [B, H, n, d] = x.shape;
  if (!Number.isInteger(m) || m < 1 || m > n) throw new Error(`segmentMeans: need 1 ≤ m ≤ n = ${n}, got m = ${m}`);
  const dims = [B * H, n, d, m] as const;
  const out = empty([B, H, m, d]);
  withContiguous([x], (xc) => runKernel('segmentMeans', [xc, out, ...dims], x.size));
  return record(out, 'segmentMeans', [x], (dy) => [segmentMeansAdjoint(dy, n)]);
}

/**
 * dx[i] = dy[segment(i)] / |segment(i)|: segment means' adjoint, dy (B, H, m, d) → (B, H, n, d);
 * plus acc (B, H, n, d) in the same pass when given (the bits of add(acc, adjoint)).
 */
export function segmentMeansAdjoint(dy: Tensor, n: number, acc?: Tensor): Tensor {
  const [B, H, m, d] = dy.shape;
  const dx = empty([B, H, n, d]);
  if (acc && !sameShape(acc.shape, dx.shape)) throw new Error(`segmentMeansAdjoint: acc ${fmt(acc.shape)} is not ${fmt(dx.shape)}`);
  withContiguous(acc ? [dy, acc] : [dy], (g, a) => runKernel('segmentMeansGrad', [g, dx, a ?? null, B * H, n, d, m], dx.size));
  return dx;
}

/** The m×n averaging matrix P, so that landmarks = P·X for X (…, n, d). */
export function poolingMatrix(n: number, m: number): Tensor {
  return Tensor.from(poolingWeights(n, m), [m, n]);
}

/** P's entries, row-major (the ONNX exporter writes them as a constant when n is fixed). */
export function poolingWeights(n: number, m: number): Float32Array {
  const p = new Float32Array(m * n);
  segmentBounds(n, m).forEach(([start, end], j) => p.fill(1 / (end - start), j * n + start, j * n + end));
  return p;
}
