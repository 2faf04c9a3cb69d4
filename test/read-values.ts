/** Reading tensors back on any backend; host-neutral (no node:* import), so browser pages use it too. */
import { contiguous, noGrad, tidy, type Tensor } from '../src/engine/index.js';

/**
 * The float32 values of each tensor (views included), read asynchronously (so on any backend,
 * WebGPU too); the tensors are disposed.
 */
export async function readTensors(ts: readonly Tensor[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const t of ts) {
    const c = t.isContiguous ? t : tidy(() => noGrad(() => contiguous(t)));
    out.push(Float32Array.from(await c.read()));
    if (c !== t) c.dispose();
  }
  ts.forEach((t) => t.dispose());
  return out;
}

/** readTensors of what fn returns; every other tensor fn makes is disposed. */
export function readValues(fn: () => Tensor[]): Promise<Float32Array[]> {
  return readTensors(tidy(fn));
}
