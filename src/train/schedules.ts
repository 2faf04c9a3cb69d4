/**
 * Learning-rate schedules: the rate at optimizer step t (0-based) of `total`.
 * - constant: base (after an optional linear warm-up)
 * - linear:   linear warm-up to base, then linear decay to 0 at `total` (BERT fine-tuning)
 * - cosine:   linear warm-up, then half a cosine down to 0
 * - onecycle: PyTorch's OneCycleLR with linear annealing, as the official LRA code uses it: from base/25
 *             up to base at step `warmup` − 1, then down to base/(25·10⁴) at the last step; the momentum
 *             (AdamW's β₁, SGD's momentum) cycles the other way, 0.95 → 0.85 at the peak → 0.95.
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

/** OneCycleLR's defaults: div_factor, final_div_factor, base_momentum, max_momentum. */
const ONE_CYCLE = { startDivisor: 25, endDivisor: 1e4, lowMomentum: 0.85, highMomentum: 0.95 };

export function learningRate(s: Schedule, step: number): number {
  if (!SCHEDULES.includes(s.kind)) throw new Error(`schedule must be one of ${SCHEDULES.join(', ')}, got '${s.kind}'`);
  if (s.kind === 'onecycle') {
    const start = s.base / ONE_CYCLE.startDivisor;
    return oneCycle(s, step, [start, s.base, start / ONE_CYCLE.endDivisor]);
  }
  if (s.warmup > 0 && step < s.warmup) return (s.base * (step + 1)) / s.warmup;
  if (s.kind === 'constant') return s.base;
  const decay = Math.max(1, s.total - s.warmup);
  const progress = Math.min(1, (step - s.warmup) / decay);
  if (s.kind === 'cosine') return s.base * 0.5 * (1 + Math.cos(Math.PI * progress));
  return s.base * (1 - progress);
}

/** The momentum the schedule sets at `step` (onecycle), or undefined: the optimizer keeps its own. */
export function scheduledMomentum(s: Schedule, step: number): number | undefined {
  if (s.kind !== 'onecycle') return undefined;
  const { lowMomentum: low, highMomentum: high } = ONE_CYCLE;
  return oneCycle(s, step, [high, low, high]);
}

/**
 * Two linear phases through [first, peak, last], as OneCycleLR's get_lr: the first ends at step
 * warmup/total·total − 1, the second at total − 1 (its arithmetic kept, so the values match PyTorch's).
 */
function oneCycle(s: Schedule, step: number, [first, peak, last]: [number, number, number]): number {
  const peakStep = (s.warmup / s.total) * s.total - 1;
  const [from, to, start, end] = step <= peakStep ? [first, peak, 0, peakStep] : [peak, last, peakStep, s.total - 1];
  const pct = end > start ? (step - start) / (end - start) : 1;
  return (to - from) * pct + from;
}
