/** Input checks shared by the attention ops: shapes, masks, finiteness. Errors name the op and shapes. */
import { abs, backend, contiguous, fmt, max, noGrad, NonFiniteError, perOpChecks, Tensor, tidy } from '../engine/index.js';

/**
 * Whether checks may read values back: not on a backend that reads only asynchronously (a GPU),
 * where there is no synchronous way back; there the caller's data is trusted, and a NaN shows in the loss.
 */
export const canCheckValues = (): boolean => backend().canReadSync;

/** q, k, v must be float32 (B, H, n, d) with equal shapes; returns [B, H, n, d]. */
export function checkQkv(op: string, q: Tensor, k: Tensor, v: Tensor): [number, number, number, number] {
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (t.rank !== 4) throw new Error(`${op}: ${name} must be (B, H, n, d), got ${fmt(t.shape)}`);
    if (t.dtype !== 'float32') throw new Error(`${op}: ${name} must be float32, got ${t.dtype}`);
  }
  if (fmt(q.shape) !== fmt(k.shape) || fmt(q.shape) !== fmt(v.shape)) {
    throw new Error(`${op}: q ${fmt(q.shape)}, k ${fmt(k.shape)} and v ${fmt(v.shape)} must have the same shape`);
  }
  const [B, H, n, d] = q.shape;
  return [B, H, n, d];
}

/**
 * A key-padding mask must be float32 (B, n) of 0s and 1s. The values are read back only where
 * per-op checks run (see engine/checks.ts): a model checks its mask once, with checkMaskValues.
 */
export function checkMask(op: string, mask: Tensor, B: number, n: number, keys = 'n'): void {
  if (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== n) {
    throw new Error(`${op}: mask must be (B, ${keys}) = [${B}, ${n}], got ${fmt(mask.shape)}`);
  }
  if (mask.dtype !== 'float32') throw new Error(`${op}: mask must be float32 0/1, got ${mask.dtype}`);
  if (perOpChecks() && canCheckValues()) checkMaskValues(op, tidy(() => noGrad(() => contiguous(mask).toArray())), n);
}

/** Values of a (B, n) mask, row-major, must be 0 or 1. Returns whether any is 0 (padding). */
export function checkMaskValues(op: string, values: ArrayLike<number>, n: number): boolean {
  let padded = false;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x === 0) padded = true;
    else if (x !== 1) throw new Error(`${op}: mask values must be 0 or 1, got ${x} at [${Math.floor(i / n)}, ${i % n}]`);
  }
  return padded;
}

/** Rejects NaN and ±Infinity in the inputs (they would spread through every landmark), where per-op checks run. */
export function checkFinite(op: string, named: Record<string, Tensor | undefined>): void {
  if (!perOpChecks()) return;
  for (const [name, t] of Object.entries(named)) if (t) assertFinite(op, name, t);
}

/** One read: throws NonFiniteError naming `op` when t holds NaN or ±Infinity. */
export function assertFinite(op: string, name: string, t: Tensor): void {
  if (t.size === 0 || !canCheckValues()) return;
  const m = tidy(() => noGrad(() => max(abs(t)).item()));
  if (!Number.isFinite(m)) throw new NonFiniteError(op, `${op}: ${name} ${fmt(t.shape)} contains non-finite values`);
}
