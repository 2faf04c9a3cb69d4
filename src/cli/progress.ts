/** Progress lines on stderr for long work: redrawn in place on a terminal, silent elsewhere (logs, --json). */
import type { StepRecord } from '../train/index.js';

const onTerminal = () => process.stderr.isTTY === true;

/** Training steps: a bar, the running mean of the loss, tokens per second and the time left. */
export function stepProgress(total: number, enabled = onTerminal()): (r: StepRecord) => void {
  let mean = NaN;
  let tokens = 0;
  let seconds = 0;
  return (r) => {
    mean = Number.isNaN(mean) ? r.loss : 0.95 * mean + 0.05 * r.loss;
    tokens += r.tokens;
    seconds += r.seconds;
    if (!enabled) return;
    const width = 24;
    const done = Math.round((width * r.step) / total);
    const eta = ((total - r.step) * seconds) / r.step;
    process.stderr.write(`\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] step ${r.step}/${total}  loss ${mean.toFixed(4)}  ${Math.round(tokens / seconds)} tok/s  ETA ${eta.toFixed(0)} s `);
  };
}

/** Items of a known count (generating data): `label: done/total (p%)`, at most a few redraws a second. */
export function countProgress(label: string, total: number, enabled = onTerminal()): (done: number) => void {
  let drawn = 0;
  return (done) => {
    const now = performance.now();
    if (!enabled || (now - drawn < 200 && done < total)) return;
    drawn = now;
    process.stderr.write(`\r${label}: ${done}/${total} (${Math.round((100 * done) / total)}%)${done >= total ? '\n' : ''}`);
  };
}
