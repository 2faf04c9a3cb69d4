/**
 * Learning-rate schedules: the rate at optimizer step t (0-based) of `total`.
 * - constant: base (after an optional linear warm-up)
 * - linear:   linear warm-up to base, then linear decay to 0 at `total` (BERT fine-tuning)
 * - cosine:   linear warm-up, then half a cosine down to 0
 * - onecycle: linear up to base over the first `warmup` steps, linear down to 0 (the LRA setting)
 */
export type ScheduleKind = 'constant' | 'linear' | 'cosine' | 'onecycle';
export const SCHEDULES: readonly ScheduleKind[] = ['constant', 'linear', 'cosine', 'onecycle'];

export interface Schedule {
  kind: ScheduleKind;
  base: number;
  total: number;
  /** Warm-up steps (for onecycle: the steps up to the peak). */
  warmup: number;
}

export function learningRate(s: Schedule, step: number): number {
  if (!SCHEDULES.includes(s.kind)) throw new Error(`schedule must be one of ${SCHEDULES.join(', ')}, got '${s.kind}'`);
  if (s.warmup > 0 && step < s.warmup) return (s.base * (step + 1)) / s.warmup;
  if (s.kind === 'constant') return s.base;
  const decay = Math.max(1, s.total - s.warmup);
  const progress = Math.min(1, (step - s.warmup) / decay);
  if (s.kind === 'cosine') return s.base * 0.5 * (1 + Math.cos(Math.PI * progress));
  return s.base * (1 - progress); // linear and onecycle decay alike after the peak
}
