/** The one progress style: what reaches stderr on a terminal and elsewhere. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countProgress, downloadProgress } from './progress.js';

function fakeStream(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream };
}

test('downloads: a bar on a terminal, one line per finished file elsewhere', () => {
  const file = { name: 'org/model', file: 'model.safetensors' };
  for (const tty of [true, false]) {
    const { out, stream } = fakeStream(tty);
    const show = downloadProgress(stream);
    show({ ...file, status: 'download' } as never);
    show({ ...file, status: 'progress', loaded: 5e6, total: 1e7, progress: 50 } as never);
    show({ ...file, status: 'done' } as never);
    const text = out.join('');
    assert.equal(text.includes('[############............]  50% 5.0 MB/10.0 MB'), tty);
    assert.match(text, /downloaded org\/model model\.safetensors\x1b?\[?K?\n$/);
  }
});

test('counts: throttled redraws, the last one always drawn and ended with a newline', () => {
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => written.push(s) > 0) as typeof process.stderr.write;
  try {
    const show = countProgress('embedded', 1000, true);
    for (let i = 1; i <= 1000; i++) show(i);
  } finally {
    process.stderr.write = write;
  }
  assert.ok(written.length >= 2 && written.length < 50, `${written.length} redraws`);
  assert.equal(written.at(-1), '\rembedded: 1000/1000 (100%)\n');
});
