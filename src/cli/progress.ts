/**
 * Progress on stderr for long work, in one style: a bar redrawn in place on a terminal, a few times
 * a second at most; elsewhere (logs, --json) silent, or one line per finished download.
 */
import type { ProgressEvent } from '../io/hub/settings.js';
import type { StepRecord } from '../train/index.js';

const WIDTH = 24;
const REDRAW_MS = 200;
const onTerminal = () => process.stderr.isTTY === true;
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

function bar(done: number, total: number): string {
  const filled = total > 0 ? Math.min(WIDTH, Math.round((WIDTH * done) / total)) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}]`;
}

/** A redraw gate: true at most every REDRAW_MS, and always for the last item. */
function throttle(): (last: boolean) => boolean {
  let drawn = -Infinity;
  return (last) => {
    const now = performance.now();
    if (!last && now - drawn < REDRAW_MS) return false;
    drawn = now;
    return true;
  };
}

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
    const eta = ((total - r.step) * seconds) / r.step;
    process.stderr.write(`\r${bar(r.step, total)} step ${r.step}/${total}  loss ${mean.toFixed(4)}  ${Math.round(tokens / seconds)} tok/s  ETA ${eta.toFixed(0)} s `);
  };
}

/** Items of a known count (generating data, embedding texts): `label: done/total (p%)`. */
export function countProgress(label: string, total: number, enabled = onTerminal()): (done: number) => void {
  const due = throttle();
  return (done) => {
    if (!enabled || !due(done >= total)) return;
    process.stderr.write(`\r${label}: ${done}/${total} (${Math.round((100 * done) / total)}%)${done >= total ? '\n' : ''}`);
  };
}

/** A progressCallback for the Hub client: a bar per file on a terminal, a line per finished download elsewhere. */
export function downloadProgress(stream: NodeJS.WriteStream = process.stderr): (e: ProgressEvent) => void {
  const downloading = new Set<string>();
  const due = throttle();
  return (e) => {
    const key = `${e.name}/${e.file}`;
    if (e.status === 'download') downloading.add(key);
    if (e.status === 'progress' && stream.isTTY && due(false)) {
      stream.write(`\r${e.name} ${e.file} ${bar(e.loaded, e.total)} ${e.progress.toFixed(0).padStart(3)}% ${mb(e.loaded)}/${mb(e.total)}\x1b[K`);
    }
    if (e.status === 'done' && downloading.delete(key)) stream.write(`${stream.isTTY ? '\r' : ''}downloaded ${e.name} ${e.file}${stream.isTTY ? '\x1b[K' : ''}\n`);
  };
}
