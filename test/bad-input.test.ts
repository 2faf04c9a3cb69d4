/**
 * Bad input fails fast, names what is wrong (file:line, flag, field, value), and never costs a user
 * their results: hostile data rows, nonsense numeric flags, empty data sets, built-in names such as
 * 'constructor' where a table lookup expects a user's name, and out-of-range sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAan, readGlue, readIdxImages, readImageFolder, readListOps, readTextClassification, glueTaskName } from '../src/data/index.js';
import { activation } from '../src/models/activations.js';
import { architectureClass } from '../src/models/nystromformer/auto.js';
import { parseConfig } from '../src/models/nystromformer/config.js';
import { LRA_MODEL_TYPE, lraConfigFromJSON } from '../src/models/lra/run.js';
import { lraTask } from '../src/data/index.js';
import { glueMetrics } from '../src/train/metrics.js';
import { withTempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(repo, 'test/fixtures');
const tokenizer = join(fixtures, 'tokenizer');
const classifier = join(fixtures, 'models/seqcls-single'); // max_position_embeddings 32, with tokenizer.json

/** A tiny model for text tasks over the fixture tokenizer (300 tokens). */
const SMALL = { vocab_size: 300, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 24, max_position_embeddings: 40, conv_kernel_size: 3 };

interface Run { status: number | null; signal: string | null; stdout: string; stderr: string; seconds: number }

function cli(args: string[], timeout = 30_000): Run {
  const started = performance.now();
  const r = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), ...args], { encoding: 'utf8', timeout });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - started) / 1000 };
}

/** The command exits non-zero on its own (not killed), quickly, with every pattern in its stderr. */
function refuses(args: string[], ...patterns: RegExp[]): Run {
  const r = cli(args);
  const what = `nystromformer ${args.join(' ')}: status ${r.status}, signal ${r.signal}, ${r.seconds.toFixed(1)} s\n${r.stderr.slice(0, 2000)}`;
  assert.equal(r.signal, null, what);
  assert.notEqual(r.status, 0, what);
  for (const p of patterns) assert.match(r.stderr, p, what);
  assert.ok(r.seconds < 15, `${what}\nslow to refuse`);
  return r;
}

const jsonl = (rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

/** train's flags for a text task on `data`, from a small fresh model, as cheap as a run can be. */
function textTrain(dir: string, data: string, task = 'imdb', ...more: string[]): string[] {
  const config = join(dir, 'small.json');
  writeFileSync(config, JSON.stringify(SMALL));
  return ['train', '--task', task, '--data', data, '--config', config, '--tokenizer', tokenizer,
    '--steps', '1', '--eval-every', '1', '--batch-size', '2', '--landmarks', '2', '--out', join(dir, 'run'), ...more];
}

// ---- 3. one hostile data row ----

test('class 3: a label too large to be a class id is a bad row named by file:line, skipped or fatal', withTempDir('nystromformer-bad-', async (dir) => {
  const file = join(dir, 'x.jsonl');
  writeFileSync(file, jsonl([{ text: 'a', label: 0 }, { text: 'b', label: 1e308 }, { text: 'c', label: '5000000000' }, { text: 'd', label: 1 }]));
  const warnings: string[] = [];
  const d = await readTextClassification(file, { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(d.labels, ['0', '1']);
  assert.deepEqual(d.examples.map((e) => e.label), [0, 1]);
  assert.equal(d.skipped, 2);
  assert.match(warnings[0], /x\.jsonl:2: label 1e\+308 is not a class id: integer labels must be below 10000/);
  assert.match(warnings[1], /x\.jsonl:3: label 5000000000 is not a class id/);
  await assert.rejects(readTextClassification(file, { onBadRow: 'fail' }), /x\.jsonl:2: label 1e\+308/);

  const csv = join(dir, 'x.csv');
  writeFileSync(csv, 'text,label\nfine,0\nhostile,9999999999\n');
  await assert.rejects(readTextClassification(csv, { onBadRow: 'fail' }), /x\.csv:3: label 9999999999 is not a class id/);

  // Class names: every distinct one is a class; past the bound, the file is refused as a whole.
  const names = join(dir, 'names.jsonl');
  writeFileSync(names, jsonl(Array.from({ length: 10_001 }, (_, i) => ({ text: 't', label: `class ${i}` }))));
  await assert.rejects(readTextClassification(names), /names\.jsonl: 10001 distinct labels; at most 10000 classes are supported/);
}));

test('class 3: train --bad-rows fail stops at a row labelled 3000000000 at once, naming file and line', withTempDir('nystromformer-bad-', (dir) => {
  const file = join(dir, 'hostile.jsonl');
  writeFileSync(file, jsonl([{ text: 'a good film', label: 0 }, { text: 'a bad film', label: 3000000000 }, { text: 'fine', label: 1 }]));
  refuses(textTrain(dir, file, 'imdb', '--bad-rows', 'fail'), /hostile\.jsonl:2: label 3000000000 is not a class id/);
}));

test('class 3: GLUE scores, ListOps targets, AAN labels and IDX labels are checked per row', withTempDir('nystromformer-bad-', async (dir) => {
  mkdirSync(join(dir, 'STS-B'));
  const header = 'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n';
  writeFileSync(join(dir, 'STS-B', 'dev.tsv'), `${header}0\tg\tf\ty\t1\tn\tn\ta\tb\t3.5\n1\tg\tf\ty\t2\tn\tn\ta\tb\t1e308\n`);
  const warnings: string[] = [];
  const s = await readGlue(dir, 'stsb', 'dev', { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(s.examples.map((e) => e.label), [3.5]);
  assert.match(warnings[0], /dev\.tsv:3: score '1e308' is out of range/);

  const listops = join(dir, 'basic_train.tsv');
  writeFileSync(listops, 'Source\tTarget\n[MAX 1 2 ]\t2\n[MIN 1 2 ]\t\n');
  await assert.rejects(readListOps(listops), /basic_train\.tsv:3: Target must be a digit 0–9, got ''/);

  const aan = join(dir, 'new_aan_pairs.train.tsv');
  writeFileSync(aan, '1\tP1\tP2\tone\ttwo\n\tP3\tP4\tthree\tfour\n');
  const aanWarnings: string[] = [];
  assert.equal((await readAan(aan, 8, { onWarning: (m) => aanWarnings.push(m) })).length, 1);
  assert.match(aanWarnings[0], /new_aan_pairs\.train\.tsv:2: label must be 0 or 1, got ''/);

  // LRA Image has ten classes: an IDX label of 200 would stop training at whichever step draws it.
  const idx = (dims: number[], data: number[]) => {
    const head = Buffer.alloc(4 + 4 * dims.length);
    head.writeUInt8(0x08, 2);
    head.writeUInt8(dims.length, 3);
    dims.forEach((v, i) => head.writeUInt32BE(v, 4 + 4 * i));
    return Buffer.concat([head, Buffer.from(data)]);
  };
  for (const split of ['train', 't10k']) {
    writeFileSync(join(dir, `${split}-images-idx3-ubyte`), idx([2, 1, 2], [0, 1, 2, 3]));
    writeFileSync(join(dir, `${split}-labels-idx1-ubyte`), idx([2], [3, split === 'train' ? 200 : 4]));
  }
  await assert.rejects(readIdxImages(join(dir, 'train-images-idx3-ubyte'), join(dir, 'train-labels-idx1-ubyte'), 10), /train-labels-idx1-ubyte: label 200 of image 1 is not a class 0–9/);
  await assert.rejects(readImageFolder(dir), /train-labels-idx1-ubyte: label 200 of image 1 is not a class 0–9/);
}));

// ---- 4. numeric flags ----

test('class 4: nonsense numeric flags are refused before any work, naming the flag and the value', withTempDir('nystromformer-bad-', (dir) => {
  const out = ['--out', join(dir, 'run')];
  const cheapTrain = ['train', '--steps', '1', '--train-size', '8', '--eval-size', '8', ...out];
  const cheapLra = ['lra', '--steps', '1', '--train-size', '4', '--eval-size', '2', '--length', '60', '--batch-size', '2', ...out];
  const cheapAttention = ['bench', 'attention', '--n', '8', '--impl', 'nystrom', '--heads', '1', '--dim', '4', '--landmarks', '2'];
  const cases: [string[], string, string, string][] = [
    [cheapTrain, '--lr <rate>', 'abc', 'a positive number'],
    [cheapTrain, '--lr <rate>', '-1', 'a positive number'],
    [cheapTrain, '--weight-decay <w>', 'abc', 'a number ≥ 0'],
    [cheapTrain, '--clip-norm <c>', 'abc', 'a number ≥ 0'],
    [cheapTrain, '--patience <n>', 'abc', 'an integer ≥ 0'],
    [cheapTrain, '--seed <s>', 'abc', 'an integer seed in \\[0, 4294967295\\]'],
    [cheapTrain, '--seed <s>', '1.5', 'an integer seed'],
    [cheapTrain, '--epochs <n>', 'abc', 'a positive number'],
    [cheapTrain, '--steps <n>', '1e400', 'a positive integer'],
    [['eval', '--model', classifier, '--task', 'imdb', '--data', join(dir, 'none.jsonl')], '--seed <s>', '-3', 'an integer seed'],
    [cheapLra, '--lr <rate>', 'NaN', 'a positive number'],
    [cheapLra, '--seed <s>', '4294967296', 'an integer seed'],
    [['lra-data', '--task', 'listops', '--train-size', '4', '--eval-size', '2', '--length', '60', ...out], '--seed <s>', 'x', 'an integer seed'],
    [cheapAttention, '--seconds <s>', 'abc', 'a positive number'],
    [cheapAttention, '--conv <k>', '-1', 'an integer ≥ 0'],
    [cheapAttention, '--n <list>', '512,abc', 'comma-separated positive integers'],
    [['bench', 'model', '--layers', '1', '--hidden', '8', '--heads', '1'], '--n <list>', '8,0', 'comma-separated positive integers'],
    [['bench', 'lra-step'], '--n <list>', 'x', 'comma-separated positive integers'],
    [['bench', 'gemm', '--impl', 'wasm', '--seconds', '0.01'], '--sizes <list>', '8x8', 'comma-separated MxKxN'],
    [['bench', 'gemm', '--impl', 'wasm', '--sizes', '8x8x8'], '--seconds <s>', '0', 'a positive number'],
    [['serve'], '--port <n>', '70000', 'a port number in \\[0, 65535\\]'],
  ];
  for (const [command, flag, value, expected] of cases) {
    const name = flag.split(' ')[0];
    const escaped = flag.replace(/[<>]/g, '\\$&');
    refuses([...command, name, value], new RegExp(`option '${escaped}' argument '${value.replace(/[.\\]/g, '\\$&')}' is invalid\\. expected ${expected}`));
  }
}));

// ---- 5. wrong blame ----

test('class 5: a data set with no usable rows is named, with how many rows were skipped — not config.json', withTempDir('nystromformer-bad-', (dir) => {
  const bad = join(dir, 'all-bad.jsonl');
  writeFileSync(bad, jsonl(['{"text": "a"', { label: 1 }]));
  const r = refuses(textTrain(dir, bad), /all-bad\.jsonl: no usable rows \(2 malformed rows skipped\)/);
  assert.doesNotMatch(r.stderr, /id2label/);
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  refuses(textTrain(dir, empty), /empty\.jsonl: no usable rows \(the file has no data rows\)/);
  const unlabelled = join(dir, 'unlabelled.jsonl');
  writeFileSync(unlabelled, jsonl([{ text: 'a' }, { text: 'b' }]));
  refuses(textTrain(dir, unlabelled), /unlabelled\.jsonl: no row has a label; training needs labelled rows/);
  mkdirSync(join(dir, 'SST-2'));
  writeFileSync(join(dir, 'SST-2', 'train.tsv'), 'sentence\tlabel\n');
  writeFileSync(join(dir, 'SST-2', 'dev.tsv'), 'sentence\tlabel\ngood\t1\n');
  refuses(textTrain(dir, dir, 'glue/sst2'), /SST-2\/train\.tsv: no usable rows/);
}));

// ---- 6. built-in names ----

test('class 6: built-in property names are unknown names, not table entries', withTempDir('nystromformer-bad-', async (dir) => {
  for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
    assert.throws(() => parseConfig({ ...SMALL, hidden_act: name }), new RegExp(`hidden_act '${name}' is not supported`));
    assert.throws(() => activation(name), new RegExp(`unknown activation '${name}'`));
    assert.throws(() => glueTaskName(name), /unknown GLUE task/);
    assert.throws(() => glueMetrics(name, [0], [0]), /unknown GLUE task/);
    assert.throws(() => lraTask(name), new RegExp(`unknown task '${name}'`));
    assert.throws(() => architectureClass(name), new RegExp(`unknown architecture '${name}'`));
  }
  const listops = join(dir, 'basic_val.tsv');
  writeFileSync(listops, 'Source\tTarget\n[MAX 1 constructor ]\t1\n');
  await assert.rejects(readListOps(listops), /basic_val\.tsv:2: unknown token 'constructor'/);
  refuses(textTrain(dir, dir, 'glue/constructor'), /unknown GLUE task 'constructor'/);
  refuses(textTrain(dir, dir, 'glue/__proto__'), /unknown GLUE task '__proto__'/);
  refuses(['lra', '--task', '__proto__', '--out', join(dir, 'run')], /unknown task '__proto__'/);
  refuses(['verify-model', classifier, '--weights', 'toString'], /argument 'toString' is invalid/);
}));

// ---- 12. small ones ----

test('class 12: pipelines — --max-length implies truncation and must fit the position table; --file DIR and missing folders are named', withTempDir('nystromformer-bad-', (dir) => {
  const long = 'the film is good '.repeat(20);
  const ok = cli(['classify', '--model', classifier, '--max-length', '16', long]);
  assert.equal(ok.status, 0, ok.stderr);
  refuses(['classify', '--model', classifier, '--truncate', '--max-length', '100000', long],
    /--max-length 100000 exceeds the model's max_position_embeddings \(32\)/);
  refuses(['classify', '--model', classifier, '--file', dir], new RegExp(`--file ${dir.replace(/[.\\]/g, '\\$&')}: a folder, not a file of texts`));
  const missing = join(dir, 'no-such-model');
  const r = refuses(['embed', '--model', missing, 'hello'], new RegExp(`${missing.replace(/[.\\]/g, '\\$&')}: no such folder`));
  assert.doesNotMatch(r.stderr, /SentencePiece/);
}));

test('class 12: config.json sizes have sane bounds, pad_token_id and tie_word_embeddings are type-checked', () => {
  const started = performance.now();
  assert.throws(() => parseConfig({ ...SMALL, num_hidden_layers: 1_000_000 }), /config\.json: num_hidden_layers must be at most 1000, got 1000000/);
  assert.throws(() => parseConfig({ ...SMALL, hidden_size: 65536, num_attention_heads: 1, intermediate_size: 65536 }),
    /config\.json: these sizes make a model of at least [\d,]+ parameters .* more than the engine's 4 GiB memory holds/);
  assert.throws(() => parseConfig({ ...SMALL, vocab_size: 1e300 }), /vocab_size must be at most/);
  const lra = { model_type: LRA_MODEL_TYPE, vocabSize: 32, maxLength: 64, classes: 2, attention: 'softmax', dim: 8, ffn: 8, layers: 1_000_000, heads: 2, dropout: 0, dual: false };
  assert.throws(() => lraConfigFromJSON(lra, 'run/config.json'), /run\/config\.json: layers must be at most 1000, got 1000000/);
  assert.ok(performance.now() - started < 1000, 'refused without building');
  assert.throws(() => parseConfig({ ...SMALL, pad_token_id: 'x' }), /pad_token_id must be an integer in \[0, 300\) or null, got "x"/);
  assert.throws(() => parseConfig({ ...SMALL, pad_token_id: 300 }), /pad_token_id must be an integer in \[0, 300\) or null, got 300/);
  assert.throws(() => parseConfig({ ...SMALL, pad_token_id: 1.5 }), /pad_token_id must be an integer/);
  assert.throws(() => parseConfig({ ...SMALL, tie_word_embeddings: 'yes' }), /tie_word_embeddings must be true or false, got "yes"/);
  assert.equal(parseConfig({ ...SMALL, pad_token_id: null }).pad_token_id, null);
  assert.equal(parseConfig({ ...SMALL, tie_word_embeddings: false }).tie_word_embeddings, false);
});

// ---- issue 18, item 9 ----

test('issue 18: train --seq-len beyond max_position_embeddings is refused before any work, naming both numbers', withTempDir('nystromformer-bad-', (dir) => {
  const text = join(dir, 'corpus.txt');
  writeFileSync(text, 'the film is good and the plot is fine. '.repeat(200));
  refuses(textTrain(dir, text, 'mlm', '--seq-len', '100000'), /--seq-len 100000 exceeds the model's max_position_embeddings \(40\)/);
  const labelled = join(dir, 'x.jsonl');
  writeFileSync(labelled, jsonl([{ text: 'good', label: 1 }, { text: 'bad', label: 0 }, { text: 'fine', label: 1 }]));
  refuses(textTrain(dir, labelled, 'imdb', '--seq-len', '41'), /--seq-len 41 exceeds the model's max_position_embeddings \(40\)/);
  refuses(['train', '--seq-len', '129', '--out', join(dir, 'run')], /--seq-len 129 exceeds the model's max_position_embeddings \(128\)/); // was cut to 128 unsaid
}));
