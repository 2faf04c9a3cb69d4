/** Download progress on stderr: a bar redrawn in place on a terminal, one line per file elsewhere. */
import type { ProgressEvent } from '../io/hub/settings.js';

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const WIDTH = 24;
const REDRAW_MS = 100;

/** A progressCallback for the Hub client that draws on `stream` (default process.stderr). */
export function downloadProgress(stream: NodeJS.WriteStream = process.stderr): (e: ProgressEvent) => void {
  const downloading = new Set<string>();
  let lastDraw = 0;
  return (e) => {
    const key = `${e.name}/${e.file}`;
    if (e.status === 'download') downloading.add(key);
    if (e.status === 'progress' && stream.isTTY && Date.now() - lastDraw >= REDRAW_MS) {
      lastDraw = Date.now();
      const filled = e.total > 0 ? Math.round((WIDTH * e.loaded) / e.total) : 0;
      stream.write(`\r${e.name} ${e.file} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${e.progress.toFixed(0).padStart(3)}% ${mb(e.loaded)}/${mb(e.total)}\x1b[K`);
    }
    if (e.status === 'done' && downloading.delete(key)) stream.write(`${stream.isTTY ? '\r' : ''}downloaded ${e.name} ${e.file}${stream.isTTY ? '\x1b[K' : ''}\n`);
  };
}
