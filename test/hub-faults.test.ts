/**
 * Downloads that survive the real world, against the stand-in Hub: a cut connection resumes with
 * Range, wrong bytes never enter the cache, concurrent fetches of one file give one blob, stale
 * locks are removed, and each refusal of the Hub gives a message naming repo, revision and file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HubError, hubFile, resolveModelDir } from '../src/index.js';
import { COMMIT, FIXTURES, startHub, TOKEN } from './hub-fixtures.js';
import { withTempDir } from './helpers.js';

const weights = readFileSync(join(FIXTURES, 'mlm-dense-tied', 'model.safetensors'));
const SHA = createHash('sha256').update(weights).digest('hex');
const repoDir = (cacheDir: string) => join(cacheDir, 'models--test-org--mlm');
const blob = (cacheDir: string) => join(repoDir(cacheDir), 'blobs', SHA);
const snapshotWeights = (cacheDir: string) => join(repoDir(cacheDir), 'snapshots', COMMIT, 'model.safetensors');

test('a connection cut mid-file resumes with Range: within the call, and in the next call when the first gives up', withTempDir('hub-', async (cacheDir) => {
  const hub = await startHub();
  try {
    hub.cutAfter = 10_000;
    await resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url });
    const lfs = hub.requests.filter((r) => r.url.startsWith('/lfs/'));
    assert.deepEqual(lfs.map((r) => r.headers.range), [undefined, 'bytes=10000-'], 'the second GET asks for the rest only');
    assert.deepEqual(readFileSync(snapshotWeights(cacheDir)), weights);

    const other = join(cacheDir, 'second');
    hub.cutAfter = 20_000;
    hub.requests.length = 0;
    await assert.rejects(hubFile('test-org/mlm', 'model.safetensors', { cacheDir: other, endpoint: hub.url, retries: 0 }));
    const partial = join(other, 'models--test-org--mlm', 'blobs', `${SHA}.incomplete`);
    assert.equal(statSync(partial).size, 20_000, 'the part that arrived stays, to be resumed');
    assert.ok(!existsSync(`${join(other, 'models--test-org--mlm', 'blobs', SHA)}.lock`), 'the lock is released');
    const got = await hubFile('test-org/mlm', 'model.safetensors', { cacheDir: other, endpoint: hub.url, retries: 0 });
    assert.equal(hub.requests.filter((r) => r.url.startsWith('/lfs/')).at(-1)!.headers.range, 'bytes=20000-');
    assert.deepEqual(readFileSync(got.path), weights);
    assert.ok(!existsSync(partial));
  } finally {
    await hub.stop();
  }
}));

test('wrong bytes (checksum) or too few (size) never enter blobs/ or snapshots/', withTempDir('hub-', async (cacheDir) => {
  const hub = await startHub();
  try {
    hub.corrupt.add(SHA);
    await assert.rejects(resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url }), (e: HubError) => e.code === 'ChecksumMismatch' &&
      e.message === `model.safetensors of test-org/mlm at revision 'main' (commit ${COMMIT}): the downloaded bytes have sha256 ${createHash('sha256').update(weights.map((b) => b ^ 0xff)).digest('hex')}, the Hub announced ${SHA}; the corrupt file was removed, try again`);
    assert.deepEqual(readdirSync(join(repoDir(cacheDir), 'blobs')).filter((f) => f.startsWith(SHA)), []);
    assert.ok(!existsSync(snapshotWeights(cacheDir)));
    hub.corrupt.clear();
    hub.short.add(SHA);
    await assert.rejects(resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url }), (e: HubError) => e.code === 'SizeMismatch' &&
      e.message === `model.safetensors of test-org/mlm at revision 'main' (commit ${COMMIT}): downloaded ${weights.length - 100} bytes, the Hub announced ${weights.length}; the partial file was removed, try again`);
    assert.deepEqual(readdirSync(join(repoDir(cacheDir), 'blobs')).filter((f) => f.startsWith(SHA)), []);
    hub.short.clear();
    await resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url });
    assert.deepEqual(readFileSync(blob(cacheDir)), weights, 'a good download afterwards');
  } finally {
    await hub.stop();
  }
}));

test('two fetches of one file at once (in one process, and in two processes) give one correct blob, fetched once', withTempDir('hub-', async (cacheDir) => {
  const hub = await startHub();
  try {
    const [a, b] = await Promise.all([0, 1].map(() => resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url })));
    assert.equal(a, b);
    assert.equal(hub.count('/lfs/', 'GET'), 1, 'the second waited on the lock and reused the blob');
    assert.deepEqual(readFileSync(blob(cacheDir)), weights);

    const other = join(cacheDir, 'processes');
    const index = fileURLToPath(new URL('../src/index.js', import.meta.url));
    const script = `const { resolveModelDir } = await import(${JSON.stringify(index)}); console.log(await resolveModelDir('test-org/mlm', { cacheDir: ${JSON.stringify(other)}, endpoint: ${JSON.stringify(hub.url)} }));`;
    hub.requests.length = 0;
    const run = () => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child exited ${code}`))));
    });
    const [p, q] = await Promise.all([run(), run()]);
    assert.equal(p, q);
    assert.equal(hub.count('/lfs/', 'GET'), 1);
    assert.deepEqual(readFileSync(join(other, 'models--test-org--mlm', 'blobs', SHA)), weights);
    assert.deepEqual(readdirSync(join(other, 'models--test-org--mlm', 'blobs')).filter((f) => /\.(lock|incomplete)$/.test(f)), []);
  } finally {
    await hub.stop();
  }
}));

test('a full disk (ENOSPC, from /dev/full) names the file and what to do', { skip: !existsSync('/dev/full') }, withTempDir('hub-', async (cacheDir) => {
  const hub = await startHub();
  try {
    mkdirSync(join(repoDir(cacheDir), 'blobs'), { recursive: true });
    symlinkSync('/dev/full', `${blob(cacheDir)}.incomplete`);
    await assert.rejects(resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url }), (e: HubError) => e.code === 'DiskFull' &&
      e.message === `model.safetensors of test-org/mlm at revision 'main' (commit ${COMMIT}): no space left on the disk while writing ${blob(cacheDir)}.incomplete: free some space or set HF_HUB_CACHE to another disk`);
    assert.ok(!existsSync(blob(cacheDir)));
  } finally {
    await hub.stop();
  }
}));

test('a Hub answering 503 falls back on the cached revision with a warning, and is an error when nothing is cached', withTempDir('hub-', async (cacheDir) => {
  const hub = await startHub();
  try {
    const dir = await resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url });
    hub.failWith = 503;
    const warnings: string[] = [];
    assert.equal(await resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url, onWarning: (m) => warnings.push(m) }), dir);
    assert.deepEqual(warnings, [`cannot reach ${hub.url} (config.json of test-org/mlm at revision 'main': the Hub answered HTTP 503): using the cached config.json of test-org/mlm at revision 'main' (commit ${COMMIT})`]);
    await assert.rejects(resolveModelDir('test-org/sharded', { cacheDir, endpoint: hub.url }), /^HubError: config\.json of test-org\/sharded at revision 'main': the Hub answered HTTP 503$/);
  } finally {
    await hub.stop();
  }
}));

test('a lock left by a process that died is removed', withTempDir('hub-', async (cacheDir) => {
  const hub = await startHub();
  try {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    mkdirSync(join(repoDir(cacheDir), 'blobs'), { recursive: true });
    writeFileSync(`${blob(cacheDir)}.lock`, String(dead));
    await resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url, lockTimeoutMs: 2000 });
    assert.deepEqual(readFileSync(blob(cacheDir)), weights);
    assert.ok(!existsSync(`${blob(cacheDir)}.lock`));
  } finally {
    await hub.stop();
  }
}));

test('each refusal of the Hub names repo, revision and file, and says what to do', withTempDir('hub-', async (cacheDir) => {
  const hub = await startHub();
  const saved = { HF_TOKEN: process.env.HF_TOKEN, HF_HOME: process.env.HF_HOME };
  delete process.env.HF_TOKEN;
  process.env.HF_HOME = join(cacheDir, 'home');
  try {
    const o = { cacheDir, endpoint: hub.url };
    const fails = (p: Promise<unknown>, code: string, message: string) => assert.rejects(p, (e: HubError) => {
      assert.equal(e.code, code);
      assert.equal(e.message, message);
      return true;
    });
    await fails(resolveModelDir('test-org/nope', o), 'RepositoryNotFound',
      "repository 'test-org/nope' not found on the Hub (asked for config.json at revision 'main'): check the id; if it is private, set HF_TOKEN to a token that can read it");
    await fails(resolveModelDir('test-org/gated', o), 'GatedRepo',
      "repository 'test-org/gated' is gated (asked for config.json at revision 'main'): accept its conditions on the Hub, then set HF_TOKEN to your access token");
    await fails(resolveModelDir('test-org/gated', { ...o, token: 'hf_wrong' }), 'GatedRepo',
      "repository 'test-org/gated' is gated (asked for config.json at revision 'main'): your token has no access yet: request it on the repository's page");
    await fails(resolveModelDir('test-org/mlm', { ...o, revision: 'v9' }), 'RevisionNotFound',
      "revision 'v9' not found in test-org/mlm (asked for config.json): check the branch, tag or commit");
    await fails(hubFile('test-org/mlm', 'vocab.txt', o), 'EntryNotFound',
      "vocab.txt of test-org/mlm at revision 'main': no such file in the repository");
    await fails(resolveModelDir('test-org/sharded', { ...o, files: 'tokenizer', revision: 'c'.repeat(40) }), 'EntryNotFound',
      `tokenizer.json of test-org/sharded at revision '${'c'.repeat(40)}': no such file in the repository`);
    await assert.rejects(resolveModelDir('not a/valid/id', o), /not a\/valid\/id: no such folder \(nor a Hub id/);
    // A token from the option, from HF_TOKEN, or from $HF_HOME/token opens the gated repository.
    assert.ok(await resolveModelDir('test-org/gated', { ...o, token: TOKEN }));
    const auth = hub.requests.filter((r) => r.url.includes('gated'));
    assert.ok(auth.at(-1)!.headers.authorization === `Bearer ${TOKEN}`);
    assert.ok(hub.requests.filter((r) => r.url.startsWith('/lfs/')).every((r) => r.headers.authorization === undefined), 'no token to the content host');
    mkdirSync(process.env.HF_HOME, { recursive: true });
    writeFileSync(join(process.env.HF_HOME, 'token'), `${TOKEN}\n`);
    assert.ok(await resolveModelDir('test-org/gated', { ...o, cacheDir: join(cacheDir, 'c2') }));
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    await hub.stop();
  }
}));
