/** Counting the backend's synchronous reads: the host round trips a piece of code makes. */
import { backend } from '../src/engine/index.js';

export function countReads(fn: () => void): number {
  const b = backend();
  const original = b.readSync;
  const read = original.bind(b);
  let n = 0;
  b.readSync = (src, length, dtype) => (n++, read(src, length, dtype));
  try {
    fn();
  } finally {
    b.readSync = original;
  }
  return n;
}
