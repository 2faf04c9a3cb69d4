/** The CLI with Hub ids, against the stand-in Hub: download, cache ls, fill-mask --model owner/name online and offline. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, COMMIT, FIXTURES, startHub } from './hub-fixtures.js';
import { withTempDir } from './helpers.js';

test('CLI: download, cache ls, then fill-mask --model owner/name online and with HF_HUB_OFFLINE=1 and the Hub gone', withTempDir('hub-cli-', async (dir) => {
  const hub = await startHub();
  const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(dir, 'hub'), HF_HOME: join(dir, 'home'), HF_TOKEN: '', HF_HUB_OFFLINE: '' };
  const text = 'paris is the [MASK] of france.';
  let online;
  try {
    const download = await cli(['download', 'test-org/mlm'], env);
    assert.equal(download.status, 0, download.stderr);
    assert.equal(download.stdout.trim(), join(dir, 'hub', 'models--test-org--mlm', 'snapshots', COMMIT));
    assert.match(download.stderr, /downloaded test-org\/mlm model\.safetensors/);
    const ls = await cli(['cache', 'ls'], env);
    assert.match(ls.stdout, /^test-org\/mlm +0\.\d MB +5 files +1 snapshot\(s\) +refs: main=aaaaaaaa$/m);
    online = await cli(['fill-mask', '--model', 'test-org/mlm', '--revision', 'v1.0', '--json', text], env);
    assert.equal(online.status, 0, online.stderr);
    assert.equal(online.stderr, '', 'cached: nothing downloaded, no progress');
    const quiet = await cli(['download', 'test-org/seqcls-bin', '--json'], env);
    assert.equal(quiet.stderr, '', '--json: no progress');
    assert.deepEqual(JSON.parse(quiet.stdout), { id: 'test-org/seqcls-bin', revision: 'main', path: join(dir, 'hub', 'models--test-org--seqcls-bin', 'snapshots', 'b'.repeat(40)) });
    const verify = await cli(['verify-model', 'test-org/verify', '--json'], env);
    assert.equal(verify.status, 0, verify.stderr);
    const checks = verify.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(checks.map((c) => [c.weights, c.ok]), [['safetensors', true], ['bin', true]], 'expected.safetensors and both weight formats fetched');
  } finally {
    await hub.stop();
  }
  const local = await cli(['fill-mask', '--model', join(FIXTURES, 'mlm-dense-tied'), '--json', text], env);
  assert.equal(online.stdout, local.stdout);
  const offline = await cli(['fill-mask', '--model', 'test-org/mlm', '--json', text], { ...env, HF_HUB_OFFLINE: '1' });
  assert.equal(offline.status, 0, offline.stderr);
  assert.equal(offline.stdout, local.stdout);
  const miss = await cli(['embed', '--model', 'test-org/sharded', 'a text'], { ...env, HF_HUB_OFFLINE: '1' });
  assert.equal(miss.status, 1);
  assert.match(miss.stderr, /^nystromformer: config\.json of test-org\/sharded at revision 'main' is not in the cache \(.*\) and offline mode is on/);
}));

test('CLI: every command that takes --model takes a Hub id, online and then offline with the Hub gone', withTempDir('hub-cli-all-', async (dir) => {
  const glue = fileURLToPath(new URL('../../examples/data/glue', import.meta.url));
  const env = { HF_ENDPOINT: '', HF_HUB_CACHE: join(dir, 'hub'), HF_HOME: join(dir, 'home'), HF_TOKEN: '', HF_HUB_OFFLINE: '' };
  /** Each command with its --model, and a check of its output (the same as the local fixture's where it prints results). */
  const commands = (mode: string): [string[], string | null][] => [
    [['classify', '--model', 'test-org/seqcls-bin', '--json', 'a good movie'], join(FIXTURES, 'seqcls-single')],
    [['embed', '--model', 'test-org/mlm', '--json', 'a text to embed'], join(FIXTURES, 'mlm-dense-tied')],
    [['fill-mask', '--model', 'test-org/mlm', '--json', 'paris is the [MASK] of france.'], join(FIXTURES, 'mlm-dense-tied')],
    [['export', '--model', 'test-org/mlm', '--out', join(dir, `onnx-${mode}`), '--json'], null],
    [['verify-model', 'test-org/verify', '--json'], null],
    [['train', '--task', 'glue/sst2', '--data', glue, '--model', 'test-org/seqcls-bin', '--seq-len', '32', '--steps', '1', '--json', '--out', join(dir, `run-${mode}`)], null],
    [['eval', '--model', 'test-org/seqcls-bin', '--task', 'glue/sst2', '--data', glue, '--json'], null],
  ];
  const runAll = async (mode: string, extra: Record<string, string>) => {
    for (const [args, local] of commands(mode)) {
      const r = await cli(args, { ...env, ...extra });
      assert.equal(r.status, 0, `${mode}: ${args.join(' ')}\n${r.stderr}`);
      if (local) {
        const fromFolder = await cli(args.map((a) => (a.startsWith('test-org/') ? local : a)), env);
        assert.equal(r.stdout, fromFolder.stdout, `${mode}: ${args[0]} by id prints what the folder gives`);
      }
    }
  };
  const hub = await startHub();
  try {
    await runAll('online', { HF_ENDPOINT: hub.url });
  } finally {
    await hub.stop();
  }
  await runAll('offline', { HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: '1' });
}));
