/** makeDir: uncreatable folders fail at once, naming the folder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDir } from './make-dir.js';

test('makeDir creates missing levels, accepts an existing folder, and names what is in the way', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nystromformer-mkdir-'));
  try {
    makeDir(join(dir, 'a', 'b', 'c'));
    makeDir(join(dir, 'a', 'b', 'c'));
    assert.ok(statSync(join(dir, 'a', 'b', 'c')).isDirectory());
    writeFileSync(join(dir, 'file'), '');
    assert.throws(() => makeDir(join(dir, 'file', 'x')), new RegExp(`cannot create the folder .*file/x: .*file exists and is not a folder`));
    assert.throws(() => makeDir('/proc/nonexistent/x'), /cannot create the folder \/proc\/nonexistent\/x: .*\/proc\/nonexistent/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
