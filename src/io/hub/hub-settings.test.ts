/** The Hub client's small rules: repository ids, etags, URLs, and where settings come from. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { repoFolderName, repoIdOfFolder } from './cache-layout.js';
import { authHeaders, normalizeEtag, resolveUrl } from './metadata.js';
import { isCommitHash, isRepoId } from './repo-id.js';
import { hubCacheDir, hubEndpoint, hubToken, isOffline } from './settings.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** Runs `fn` with some environment variables set (undefined: unset), then restores them. */
function withEnv(vars: Record<string, string | undefined>, fn: () => void): void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) if (x === undefined) delete process.env[k]; else process.env[k] = x;
  };
  set(vars);
  try {
    fn();
  } finally {
    set(saved);
  }
}

test('repository ids follow the Hub rules', () => {
  for (const ok of ['uw-madison/nystromformer-512', 'bert-base-uncased', 'a.b/c_d', 'Org/Model.v2']) assert.ok(isRepoId(ok), ok);
  for (const bad of ['a/b/c', 'a--b/c', 'a/b..c', '-a/b', 'a/b.', '/abs/path', './x', 'has space/x', 'x'.repeat(97), '']) assert.ok(!isRepoId(bad), bad);
  assert.ok(isCommitHash('0123456789abcdef0123456789abcdef01234567'));
  assert.ok(!isCommitHash('main'));
});

test('cache folder names and etags as huggingface_hub writes them', () => {
  assert.equal(repoFolderName('uw-madison/nystromformer-512'), 'models--uw-madison--nystromformer-512');
  assert.equal(repoFolderName('gpt2'), 'models--gpt2');
  assert.equal(repoIdOfFolder('models--uw-madison--nystromformer-512'), 'uw-madison/nystromformer-512');
  assert.equal(repoIdOfFolder('datasets--x--y'), undefined);
  assert.equal(normalizeEtag('W/"abc123"'), 'abc123');
  assert.equal(normalizeEtag('"0f3e"'), '0f3e');
  assert.equal(resolveUrl('https://hf.co', { repo: 'a/b', revision: 'refs/pr/1', file: 'sub dir/x.json' }), 'https://hf.co/a/b/resolve/refs%2Fpr%2F1/sub%20dir/x.json');
  assert.deepEqual(authHeaders('https://hf.co/a/b/resolve/main/x', 'https://hf.co', 't'), { authorization: 'Bearer t' });
  assert.deepEqual(authHeaders('https://cdn-lfs.hf.co/x', 'https://hf.co', 't'), {}, 'no token to another host');
});

test('settings from the environment, in huggingface_hub\'s order', () => {
  withEnv({ HF_HUB_CACHE: undefined, HF_HOME: undefined, XDG_CACHE_HOME: undefined, HF_ENDPOINT: undefined, HF_HUB_OFFLINE: undefined, TRANSFORMERS_OFFLINE: undefined }, () => {
    assert.equal(hubCacheDir(), join(homedir(), '.cache', 'huggingface', 'hub'));
    assert.equal(hubEndpoint(), 'https://huggingface.co');
    assert.equal(isOffline(), false);
    assert.equal(isOffline({ localFilesOnly: true }), true);
  });
  withEnv({ HF_HUB_CACHE: undefined, HF_HOME: '/h', HF_ENDPOINT: 'http://mirror/', HF_HUB_OFFLINE: '1' }, () => {
    assert.equal(hubCacheDir(), join('/h', 'hub'));
    assert.equal(hubEndpoint(), 'http://mirror');
    assert.equal(isOffline(), true);
  });
  withEnv({ HF_HUB_CACHE: '/c', HF_HOME: '/h' }, () => {
    assert.equal(hubCacheDir(), '/c');
    assert.equal(hubCacheDir({ cacheDir: '/o' }), '/o');
  });
});

test('the token: the option, else HF_TOKEN, else $HF_HOME/token', () => {
  const home = mkdtempSync(join(tmpdir(), 'hub-home-'));
  try {
    writeFileSync(join(home, 'token'), 'hf_from_file\n');
    withEnv({ HF_HOME: home, HF_TOKEN: undefined, HF_TOKEN_PATH: undefined }, () => {
      assert.equal(hubToken(), 'hf_from_file');
      assert.equal(hubToken({ token: 'hf_option' }), 'hf_option');
    });
    withEnv({ HF_HOME: home, HF_TOKEN: 'hf_env' }, () => assert.equal(hubToken(), 'hf_env'));
    withEnv({ HF_HOME: join(home, 'none'), HF_TOKEN: undefined, HF_TOKEN_PATH: undefined }, () => assert.equal(hubToken(), undefined));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("datasets: huggingface_hub's folder names and the Hub's URLs (datasets/ prefix, the parquet branch as one segment)", () => {
  assert.equal(repoFolderName('nyu-mll/glue', 'dataset'), 'datasets--nyu-mll--glue');
  assert.equal(repoIdOfFolder('datasets--nyu-mll--glue', 'dataset'), 'nyu-mll/glue');
  assert.equal(repoIdOfFolder('models--a--b', 'dataset'), undefined);
  assert.equal(resolveUrl('https://hf.co', { repo: 'nyu-mll/glue', type: 'dataset', revision: 'refs/convert/parquet', file: 'sst2/train/0000.parquet' }),
    'https://hf.co/datasets/nyu-mll/glue/resolve/refs%2Fconvert%2Fparquet/sst2/train/0000.parquet');
});
