/**
 * A run folder's train.jsonl (written by `train` and `lra`) read back as curves: the training steps
 * and the evaluations, each step as the run last logged it.
 *
 * A log can hold more than one attempt: `--resume` continues from a checkpoint older than the last
 * logged step (a {"type":"resume","step":S} line, then steps from S + 1 again), and a run started
 * again in the same folder logs from step 1 again. Later lines win: a step that does not follow the
 * last one drops what was logged from that step on. A kill can cut the last line short (and `--resume`
 * then starts a new line after it); such a line is skipped quietly.
 */
import { readFileSync } from 'node:fs';

export interface StepLine {
  step: number;
  /** NaN where the log has null (a non-finite loss). */
  loss: number;
  lr: number;
}

/** An evaluation: step, loss, accuracy and whatever metrics the task adds (f1, mcc, pearson…). */
export type EvalLine = { step: number } & Record<string, number>;

export interface RunLog {
  steps: StepLine[];
  evals: EvalLine[];
  /** Lines skipped, as `FILE:LINE: why`. */
  warnings: string[];
}

const value = (v: unknown) => (typeof v === 'number' ? v : NaN);

export function readRunLog(path: string): RunLog {
  const lines = readFileSync(path, 'utf8').split('\n');
  let steps: StepLine[] = [];
  let evals: EvalLine[] = [];
  const warnings: string[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line);
    } catch {
      const next = lines.slice(i + 1).find((l) => l.trim());
      // cut short by a kill: the last line, or the one before a resume
      if (next === undefined || next.includes('"type":"resume"')) return;
      warnings.push(`${path}:${i + 1}: not a JSON line, skipped`);
      return;
    }
    const step = r.step;
    if (typeof step !== 'number') return;
    if (r.type === 'resume') {
      steps = steps.filter((s) => s.step <= step);
      evals = evals.filter((e) => e.step <= step);
    } else if (r.type === 'step') {
      if (steps.length > 0 && step <= steps[steps.length - 1].step) {
        steps = steps.filter((s) => s.step < step);
        evals = evals.filter((e) => e.step < step);
      }
      steps.push({ step, loss: value(r.loss), lr: value(r.lr) });
    } else if (r.type === 'eval') {
      if (evals.length > 0 && step <= evals[evals.length - 1].step) evals = evals.filter((e) => e.step < step);
      evals.push(Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'type').map(([k, v]) => [k, value(v)])) as EvalLine);
    }
  });
  return { steps, evals, warnings };
}
