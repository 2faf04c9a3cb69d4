/**
 * Datasets by Hub id against the stand-in Hub: the parquet splits land in the shared cache in
 * huggingface_hub's layout, read into exactly the rows the GLUE and IMDB folder readers give (column
 * and split names, MNLI's class numbering, test labels −1, IMDB's line breaks), again offline from
 * the cache; the CLI trains and evaluates on `--data hf:nyu-mll/glue`, online and offline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readGlue, readHubGlue, readHubImdb, readImdb } from '../src/data/index.js';
import { HubError } from '../src/io/hub/index.js';
import { parquetFile } from '../src/io/hub/dataset-files.js';
import { cli, FIXTURES } from './hub-fixtures.js';
import { addDatasets, DATA, GLUE_COMMIT, IMDB_COMMIT, parquet } from './hub-datasets.js';
import { HubServer } from './hub-server.js';
import { withTempDir } from './helpers.js';

async function startDatasetHub(): Promise<HubServer> {
  const hub = new HubServer();
  await addDatasets(hub);
  return hub.start();
}

test('GLUE and IMDB by Hub id: the same rows as the folder readers, cached in the Hub layout, then offline', withTempDir('hub-data-', async (dir) => {
  const hub = await startDatasetHub();
  const cacheDir = join(dir, 'hub');
  const glue = join(DATA, 'glue');
  const imdb = join(DATA, 'aclImdb');
  const read = { onWarning: () => {} };
  const warnings: string[] = [];
  const both = async (options: { endpoint?: string; localFilesOnly?: boolean }) => {
    const hubOptions = { cacheDir, onWarning: (m: string) => warnings.push(m), ...options };
    return {
      sst2: [await readHubGlue('nyu-mll/glue', 'sst2', 'train', read, hubOptions), await readHubGlue('nyu-mll/glue', 'sst2', 'dev', read, hubOptions)],
      mnli: await readHubGlue('nyu-mll/glue', 'mnli', 'dev', read, hubOptions),
      stsb: await readHubGlue('nyu-mll/glue', 'stsb', 'dev', read, hubOptions),
      imdb: [await readHubImdb('stanfordnlp/imdb', 'train', read, hubOptions), await readHubImdb('stanfordnlp/imdb', 'test', read, hubOptions)],
    };
  };
  let online;
  try {
    online = await both({ endpoint: hub.url });
    const test = await readHubGlue('nyu-mll/glue', 'sst2', 'test', read, { cacheDir, endpoint: hub.url });
    assert.ok(test.examples.length > 0 && test.examples.every((e) => e.label === -1), 'test splits have hidden labels (−1)');
    await assert.rejects(readHubGlue('nyu-mll/glue', 'cola', 'dev', read, { cacheDir, endpoint: hub.url }),
      (e: unknown) => e instanceof HubError && /dataset nyu-mll\/glue has no parquet files for config 'cola', split 'validation'/.test(e.message));
    // A row whose label is no MNLI class is reported and skipped; the Hub's 2 is contradiction, the reader's 0.
    hub.addDataset('test-org/bad-glue', new Map([['mnli/validation_matched/0000.parquet', parquet([
      { name: 'premise', data: ['a', 'b'], type: 'STRING' }, { name: 'hypothesis', data: ['c', 'd'], type: 'STRING' }, { name: 'label', data: [5n, 2n], type: 'INT64' },
    ])]]), '3'.repeat(40));
    const skipped: string[] = [];
    const bad = await readHubGlue('test-org/bad-glue', 'mnli', 'dev', { onWarning: (m) => skipped.push(m) }, { cacheDir, endpoint: hub.url });
    assert.deepEqual(bad.examples, [{ textA: 'b', textB: 'd', label: 0 }]);
    assert.deepEqual(skipped, ["mnli/validation_matched of dataset test-org/bad-glue:1: label 5 is not one of MNLI's (row skipped)"]);
    // A listed URL stands for its file in refs/convert/parquet (where the Hub redirects it): that file is what is fetched.
    const listed = (await (await fetch(`${hub.url}/api/datasets/stanfordnlp/imdb/parquet/plain_text/train`)).json()) as string[];
    const file = '/datasets/stanfordnlp/imdb/resolve/refs%2Fconvert%2Fparquet/plain_text/train/0001.parquet';
    assert.equal((await fetch(listed[1], { redirect: 'manual' })).headers.get('location'), `${hub.url}${file}`);
    // (fetched at the commit the first file named, as a model's files are)
    assert.equal(hub.count(`/datasets/stanfordnlp/imdb/resolve/${IMDB_COMMIT}/plain_text/train/0001.parquet`, 'HEAD'), 1);
  } finally {
    await hub.stop();
  }
  assert.deepEqual(online.sst2, [await readGlue(glue, 'sst2', 'train'), await readGlue(glue, 'sst2', 'dev')]);
  assert.deepEqual(online.mnli, await readGlue(glue, 'mnli', 'dev'), "MNLI: the Hub's class ids mapped to the reader's by name");
  assert.deepEqual(online.stsb, await readGlue(glue, 'stsb', 'dev'));
  assert.deepEqual(online.imdb, [await readImdb(imdb, 'train'), await readImdb(imdb, 'test')]);

  // huggingface_hub's layout: datasets--{owner}--{name}, the branch's ref, snapshot links to blobs.
  const root = join(cacheDir, 'datasets--nyu-mll--glue');
  assert.equal(readFileSync(join(root, 'refs', 'refs', 'convert', 'parquet'), 'utf8'), GLUE_COMMIT);
  assert.ok(existsSync(join(root, 'snapshots', GLUE_COMMIT, 'sst2', 'train', '0000.parquet')));
  assert.ok(existsSync(join(cacheDir, 'datasets--stanfordnlp--imdb', 'snapshots', IMDB_COMMIT, 'plain_text', 'train', '0001.parquet')));

  assert.deepEqual(await both({ localFilesOnly: true }), online, 'offline: the same rows from the cache');
  assert.deepEqual(warnings, []);
  assert.deepEqual(await both({ endpoint: hub.url }), online, 'the Hub gone: the cache, with a warning');
  assert.match(warnings[0], /^cannot list sst2\/train of dataset nyu-mll\/glue \(.*\): using the 1 cached parquet file\(s\)$/);
  await assert.rejects(readHubImdb('a--b', 'test', read, { cacheDir }), /^Error: 'a--b' is not a Hugging Face dataset id/);
  await assert.rejects(readHubGlue('nyu-mll/glue', 'mrpc', 'dev', read, { cacheDir, localFilesOnly: true }),
    /mrpc\/validation of dataset nyu-mll\/glue at revision 'refs\/convert\/parquet' is not in the cache .* offline mode is on/);
}));

test('CLI: train and eval with --data hf:nyu-mll/glue and hf:stanfordnlp/imdb, then eval offline from the cache', withTempDir('hub-data-cli-', async (dir) => {
  const hub = await startDatasetHub();
  const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(dir, 'hub'), HF_HOME: join(dir, 'home'), HF_TOKEN: '', HF_HUB_OFFLINE: '' };
  const model = join(FIXTURES, 'seqcls-single');
  const out = join(dir, 'sst2');
  const evalArgs = ['eval', '--model', join(out, 'best'), '--task', 'glue/sst2', '--data', 'hf:nyu-mll/glue', '--landmarks', '16', '--batch-size', '4', '--json'];
  let trained;
  let online;
  try {
    const train = await cli(['train', '--task', 'glue/sst2', '--data', 'hf:nyu-mll/glue', '--model', model, '--steps', '2', '--eval-every', '2', '--batch-size', '4', '--out', out, '--json'], env);
    assert.equal(train.status, 0, train.stderr);
    trained = JSON.parse(train.stdout.trim().split('\n').pop()!);
    assert.equal(trained.steps, 2);
    online = await cli(evalArgs, env);
    assert.equal(online.status, 0, online.stderr);
    const imdb = await cli(['train', '--task', 'imdb', '--data', 'hf:stanfordnlp/imdb', '--model', model, '--steps', '1', '--batch-size', '4', '--out', join(dir, 'imdb')], env);
    assert.equal(imdb.status, 0, imdb.stderr);
    assert.match(imdb.stderr, /downloaded stanfordnlp\/imdb plain_text\/train\/0001\.parquet/);
    assert.match(imdb.stderr, /on imdb \(hf:stanfordnlp\/imdb, .*6 train \/ 6 eval sequences/);
  } finally {
    await hub.stop();
  }
  const e = JSON.parse(online.stdout);
  assert.equal(e.accuracy, trained.best.value, 'eval of the best model reproduces what training recorded');
  assert.equal(e.examples, (await readGlue(join(DATA, 'glue'), 'sst2', 'dev')).examples.length);
  const ls = await cli(['cache', 'ls'], env);
  assert.match(ls.stdout, /^dataset nyu-mll\/glue +0\.\d MB +2 files +1 snapshot\(s\) +refs: refs\/convert\/parquet=11111111$/m, ls.stdout);
  assert.match(ls.stdout, /^dataset stanfordnlp\/imdb +0\.\d MB +3 files/m, 'train in two files, test in one');
  const offline = await cli(evalArgs, { ...env, HF_HUB_OFFLINE: '1' });
  assert.equal(offline.status, 0, offline.stderr);
  assert.deepEqual({ ...JSON.parse(offline.stdout), seconds: 0 }, { ...e, seconds: 0 });
  const miss = await cli([...evalArgs.slice(0, 4), 'glue/mnli', ...evalArgs.slice(5)], { ...env, HF_HUB_OFFLINE: '1' });
  assert.equal(miss.status, 1);
  assert.match(miss.stderr, /mnli\/validation_matched of dataset nyu-mll\/glue at revision 'refs\/convert\/parquet' is not in the cache/);
}));

test("the Hub's listed parquet URLs name files of refs/convert/parquet", () => {
  const ref = { repo: 'nyu-mll/glue', type: 'dataset' as const, revision: 'refs/convert/parquet', file: 'sst2/train' };
  assert.equal(parquetFile(ref, 'https://huggingface.co/api/datasets/nyu-mll/glue/parquet/sst2/train/12.parquet'), 'sst2/train/0012.parquet');
  assert.equal(parquetFile(ref, 'https://mirror.example/hf/datasets/nyu-mll/glue/resolve/refs%2Fconvert%2Fparquet/sst2/train/0001.parquet'), 'sst2/train/0001.parquet');
  assert.throws(() => parquetFile(ref, 'https://huggingface.co/api/datasets/other/x/parquet/sst2/train/0.parquet'), /not a parquet file of the dataset/);
});
