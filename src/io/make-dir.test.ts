/** makeDir and the temp-file names: uncreatable folders fail at once, temp names tell whose they are. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDir } from './make-dir.js';
import { tempOwner, tempPathFor } from './temp-files.js';

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

test('temp names carry the writer pid, whatever the final name looks like', () => {
  assert.equal(tempOwner(tempPathFor('/x/model.safetensors').split('/').pop()!), process.pid);
  assert.equal(tempOwner('.0.npy.123.abc.tmp'), 123);
  assert.equal(tempOwner('.basic_train.tsv.77.9.tmp'), 77);
  assert.equal(tempOwner('.step-12.4567.tmp'), 4567);
  assert.equal(tempOwner('.step-12.4567.k2.tmp'), 4567);
  assert.equal(tempOwner('model.safetensors'), null);
  assert.equal(tempOwner('.latest.tmp'), null);
});
