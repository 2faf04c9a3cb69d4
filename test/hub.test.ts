/**
 * Models by Hub id through a stand-in Hub on localhost: downloads land in huggingface_hub's cache
 * layout and load as the fixture folders do; cached files are not fetched again; offline mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { noGrad, Tensor, tidy } from '../src/engine/index.js';
import { HubError, listCache, resolveModelDir, type HubProgressEvent } from '../src/index.js';
import { Tokenizer } from '../src/io/tokenizer.js';
import { loadModel, NystromformerForMaskedLM, NystromformerPreTrainedModel } from '../src/models/index.js';
import { COMMIT, FIXTURES, startHub } from './hub-fixtures.js';
import { withTempDir } from './helpers.js';

const ids = Tensor.from(Int32Array.from([2, 7, 9, 4, 3]), [1, 5], 'int32');

/** The model's main output on fixed ids. */
function output(model: NystromformerPreTrainedModel): Float32Array {
  const out = noGrad(() => tidy(() => {
    const o = (model as unknown as { forward(i: object): { logits?: Tensor; lastHiddenState?: Tensor; startLogits?: Tensor } }).forward({ inputIds: ids });
    return (o.logits ?? o.lastHiddenState ?? o.startLogits)!.toArray() as Float32Array;
  }));
  model.dispose();
  return out;
}

test('an id downloads into the Python cache layout and loads as the folder does (safetensors, .bin only, sharded)', withTempDir('hub-', async (cacheDir) => {
  const hub = await startHub();
  try {
    const cases: [string, string][] = [['test-org/mlm', 'mlm-dense-tied'], ['test-org/seqcls-bin', 'seqcls-single'], ['test-org/sharded', 'base-dense']];
    for (const [id, fixture] of cases) {
      const fromHub = await loadModel(id, { cacheDir, endpoint: hub.url, onWarning: () => {} });
      const fromFolder = await loadModel(join(FIXTURES, fixture), { onWarning: () => {} });
      assert.deepEqual(output(fromHub), output(fromFolder), id);
    }
    const repo = join(cacheDir, 'models--test-org--mlm');
    assert.equal(readFileSync(join(repo, 'refs', 'main'), 'utf8'), COMMIT, 'refs/main holds the commit, no newline');
    const weights = join(repo, 'snapshots', COMMIT, 'model.safetensors');
    assert.ok(lstatSync(weights).isSymbolicLink());
    const sha = createHash('sha256').update(readFileSync(weights)).digest('hex');
    assert.equal(readlinkSync(weights), join('..', '..', 'blobs', sha), 'a relative link to the blob named by its sha256');
    assert.ok(existsSync(join(repo, '.no_exist', COMMIT, 'pytorch_model.bin')) === false, 'never asked: model.safetensors came first');
    assert.ok(existsSync(join(repo, '.no_exist', COMMIT, 'tokenizer_config.json')) === false);
    const binRepo = join(cacheDir, 'models--test-org--seqcls-bin');
    assert.ok(existsSync(join(binRepo, '.no_exist', 'b'.repeat(40), 'model.safetensors')), 'the 404 is remembered, as huggingface_hub does');
    assert.ok(existsSync(join(cacheDir, 'models--test-org--sharded', 'snapshots', 'c'.repeat(40), 'model-00002-of-00002.safetensors')));
    // The format asked for: only .bin, when FromPretrainedOptions.weights says so.
    const bin = await loadModel('test-org/verify', { cacheDir, endpoint: hub.url, weights: 'bin', onWarning: () => {} });
    assert.deepEqual(output(bin), output(await loadModel(join(FIXTURES, 'base-dense'), { weights: 'bin' })));
    const verifyDir = join(cacheDir, 'models--test-org--verify', 'snapshots', 'e'.repeat(40));
    assert.ok(existsSync(join(verifyDir, 'pytorch_model.bin')) && !existsSync(join(verifyDir, 'model.safetensors')));
    const listed = listCache(cacheDir).filter((r) => r.repo !== 'test-org/verify');
    assert.deepEqual(listed.map((r) => r.repo), ['test-org/mlm', 'test-org/seqcls-bin', 'test-org/sharded']);
    assert.deepEqual(listed[0].refs, { main: COMMIT });
    assert.ok(listed[0].size > 46_000);
  } finally {
    await hub.stop();
  }
}));

test('a cached file is not fetched again: one HEAD for a branch, no request for a commit; the tokenizer by id', withTempDir('hub-', async (cacheDir) => {
  const hub = await startHub();
  try {
    const events: HubProgressEvent[] = [];
    const dir = await resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url, progressCallback: (e) => events.push(e) });
    assert.equal(dir, join(cacheDir, 'models--test-org--mlm', 'snapshots', COMMIT));
    const weights = events.filter((e) => e.file === 'model.safetensors').map((e) => e.status);
    assert.deepEqual([weights[0], weights[1], weights.at(-2), weights.at(-1)], ['initiate', 'download', 'done', 'ready']);
    const last = events.filter((e) => e.status === 'progress').at(-1)!;
    assert.ok(last.status === 'progress' && last.loaded === last.total && last.progress === 100);
    hub.requests.length = 0;
    assert.equal(await resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url }), dir);
    assert.deepEqual(hub.requests.map((r) => `${r.method} ${r.url}`), [`HEAD /test-org/mlm/resolve/main/config.json`], 'a branch: one HEAD gives the commit, the rest is cached');
    hub.requests.length = 0;
    await resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url, revision: COMMIT });
    assert.equal(hub.requests.length, 0, 'a commit: no request at all');
    const tokenizer = await Tokenizer.fromPretrained('test-org/mlm', { cacheDir, endpoint: hub.url, revision: 'v1.0' });
    const local = await Tokenizer.fromDir(join(FIXTURES, 'mlm-dense-tied'));
    assert.deepEqual(tokenizer.encode('hello [MASK] world').inputIds, local.encode('hello [MASK] world').inputIds);
    assert.equal(readFileSync(join(cacheDir, 'models--test-org--mlm', 'refs', 'v1.0'), 'utf8'), COMMIT);
    assert.equal(await resolveModelDir(join(FIXTURES, 'qa'), { cacheDir, endpoint: hub.url }), join(FIXTURES, 'qa'), 'a folder wins over an id');
  } finally {
    await hub.stop();
  }
}));

test('offline: HF_HUB_OFFLINE=1 with the Hub gone loads from the cache; a miss names the file; no network falls back with a warning', withTempDir('hub-', async (cacheDir) => {
  const hub = await startHub();
  await resolveModelDir('test-org/mlm', { cacheDir, endpoint: hub.url });
  const url = hub.url;
  await hub.stop();
  process.env.HF_HUB_OFFLINE = '1';
  try {
    const model = await NystromformerForMaskedLM.fromPretrained('test-org/mlm', { cacheDir, endpoint: url });
    const fromFolder = await NystromformerForMaskedLM.fromPretrained(join(FIXTURES, 'mlm-dense-tied'));
    assert.deepEqual(output(model), output(fromFolder));
    await assert.rejects(resolveModelDir('test-org/seqcls-bin', { cacheDir, endpoint: url }),
      (e: HubError) => e.code === 'OfflineMiss' && /config\.json of test-org\/seqcls-bin at revision 'main' is not in the cache \(.*\) and offline mode is on/.test(e.message));
  } finally {
    delete process.env.HF_HUB_OFFLINE;
  }
  await assert.rejects(resolveModelDir('test-org/mlm', { cacheDir, endpoint: url, revision: 'v2', localFilesOnly: true }), /config\.json of test-org\/mlm at revision 'v2' is not in the cache/);
  const warnings: string[] = [];
  assert.equal(await resolveModelDir('test-org/mlm', { cacheDir, endpoint: url, onWarning: (m) => warnings.push(m) }), join(cacheDir, 'models--test-org--mlm', 'snapshots', COMMIT));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^cannot reach http:\/\/127\.0\.0\.1:\d+ \(.*\): using the cached config\.json of test-org\/mlm at revision 'main'/);
  await assert.rejects(resolveModelDir('test-org/sharded', { cacheDir, endpoint: url }),
    (e: HubError) => e.code === 'NetworkError' && /config\.json of test-org\/sharded at revision 'main': cannot reach .* and the cache does not hold it/.test(e.message));
}));

test("a cache written by hand in huggingface_hub's layout (blobs, symlinks, refs/main) is read without a request", withTempDir('hub-', async (cacheDir) => {
  const repo = join(cacheDir, 'models--someone--tiny');
  const commit = '0123456789abcdef0123456789abcdef01234567';
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(join(repo, 'snapshots', commit), { recursive: true });
  mkdirSync(join(repo, 'refs'));
  writeFileSync(join(repo, 'refs', 'main'), commit);
  for (const file of ['config.json', 'model.safetensors']) {
    const bytes = readFileSync(join(FIXTURES, 'qa', file));
    const etag = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(repo, 'blobs', etag), bytes);
    symlinkSync(join('..', '..', 'blobs', etag), join(repo, 'snapshots', commit, file));
  }
  const hub = await startHub();
  try {
    const model = await loadModel('someone/tiny', { cacheDir, endpoint: hub.url, localFilesOnly: true });
    assert.deepEqual(output(model), output(await loadModel(join(FIXTURES, 'qa'))));
    assert.equal(hub.requests.length, 0);
  } finally {
    await hub.stop();
  }
}));
