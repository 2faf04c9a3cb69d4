/** The GLUE, IMDB and CSV/JSONL readers against test/fixtures/data, and malformed input in temp files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GLUE_TASKS, GLUE_TASK_NAMES, parseCsv, readGlue, readImdb, readTextClassification } from './index.js';

const data = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/data');
const glue = join(data, 'glue');
const count = (labels: number[]) => labels.reduce<Record<number, number>>((c, l) => ((c[l] = (c[l] ?? 0) + 1), c), {});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nystromformer-data-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('GLUE_TASKS covers the nine tasks with their label lists and metrics', () => {
  assert.deepEqual(GLUE_TASK_NAMES, ['cola', 'sst2', 'mrpc', 'qqp', 'stsb', 'mnli', 'qnli', 'rte', 'wnli']);
  assert.deepEqual(GLUE_TASKS.mnli.labels, ['contradiction', 'entailment', 'neutral']);
  assert.deepEqual(GLUE_TASKS.rte.labels, ['entailment', 'not_entailment']);
  assert.equal(GLUE_TASKS.stsb.labels, null);
  assert.deepEqual(GLUE_TASKS.mrpc.metrics, ['accuracy', 'f1']);
});

test('SST-2: 12 + 12 single sentences, 6 of each class', async () => {
  for (const split of ['train', 'dev'] as const) {
    const d = await readGlue(glue, 'SST-2', split);
    assert.equal(d.examples.length, 12);
    assert.equal(d.skipped, 0);
    assert.deepEqual(d.labels, ['0', '1']);
    assert.equal(d.problem, 'single_label_classification');
    assert.deepEqual(count(d.examples.map((e) => e.label)), { 0: 6, 1: 6 });
    assert.ok(d.examples.every((e) => e.textB === undefined));
  }
  const dev = await readGlue(glue, 'sst2', 'dev');
  assert.equal(dev.examples[5].textA, 'a "thriller" with no thrills at all'); // quotes are text, not CSV quoting
});

test('MRPC: pairs from #1 String and #2 String, label from Quality', async () => {
  const d = await readGlue(glue, 'mrpc', 'train');
  assert.equal(d.examples.length, 8);
  assert.deepEqual(d.examples[0], {
    textA: 'The council approved the new bridge on Tuesday.',
    textB: 'On Tuesday the council gave its approval to the new bridge.',
    label: 1,
  });
  assert.deepEqual(count(d.examples.map((e) => e.label)), { 0: 4, 1: 4 });
  assert.equal((await readGlue(glue, 'MRPC', 'dev')).examples.length, 8);
});

test('CoLA: no header, sentence from the 4th column, label from the 2nd', async () => {
  const train = await readGlue(glue, 'CoLA', 'train');
  assert.equal(train.examples.length, 8);
  assert.deepEqual(train.examples[1], { textA: 'The dog the ball chased quickly.', label: 0 });
  const dev = await readGlue(glue, 'cola', 'dev');
  assert.deepEqual(count(dev.examples.map((e) => e.label)), { 0: 3, 1: 5 });
});

test('STS-B: regression on the score column', async () => {
  const d = await readGlue(glue, 'STS-B', 'train');
  assert.equal(d.problem, 'regression');
  assert.equal(d.labels, null);
  assert.equal(d.examples.length, 8);
  assert.deepEqual(d.examples[0], { textA: 'A cat is sleeping on a chair.', textB: 'A cat sleeps on a chair.', label: 4.8 });
  assert.deepEqual((await readGlue(glue, 'stsb', 'dev')).examples.map((e) => e.label), [5, 1.2, 3.8, 1.75, 4.4, 0.4, 4.9, 2.25]);
});

test('MNLI: the wide header, gold_label by name (train has label1, dev label1..label5)', async () => {
  const train = await readGlue(glue, 'MNLI', 'train');
  assert.equal(train.examples.length, 8);
  assert.deepEqual(train.labels, ['contradiction', 'entailment', 'neutral']);
  assert.deepEqual(train.examples[0], {
    textA: 'The shop on the corner sells fresh bread.',
    textB: 'Bread is sold at the corner shop.',
    label: 1,
  });
  assert.deepEqual(count(train.examples.map((e) => e.label)), { 0: 3, 1: 3, 2: 2 });
  const dev = await readGlue(glue, 'mnli', 'dev_matched');
  assert.deepEqual(dev.examples.map((e) => e.label), [1, 0, 2, 1, 0, 2, 1, 0]);
  assert.equal((await readGlue(glue, 'mnli', 'dev')).examples.length, 8); // dev means dev_matched
  await assert.rejects(readGlue(glue, 'SST-2', 'dev_matched'), /exists only for MNLI/);
});

test('a malformed row is reported as file:line and skipped, or fails with onBadRow fail', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'SST-2'));
  const file = join(dir, 'SST-2', 'train.tsv');
  writeFileSync(file, 'sentence\tlabel\ngood\t1\nno label column here\nbad\t0\nweird\t7\n\nok\t0\n');
  const warnings: string[] = [];
  const d = await readGlue(dir, 'sst2', 'train', { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(d.examples.map((e) => e.textA), ['good', 'bad', 'ok']);
  assert.equal(d.skipped, 2);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], new RegExp(`^${file.replace(/[.\\]/g, '\\$&')}:3: expected 2 tab-separated columns, found 1`));
  assert.match(warnings[1], /train\.tsv:5: unknown label '7' \(expected one of 0, 1\)/);
  await assert.rejects(readGlue(dir, 'sst2', 'train', { onBadRow: 'fail' }), /train\.tsv:3: expected 2 tab-separated columns/);

  mkdirSync(join(dir, 'STS-B'));
  const header = 'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n';
  writeFileSync(join(dir, 'STS-B', 'dev.tsv'), `${header}0\tg\tf\ty\t1\tn\tn\ta\tb\t3.5\n1\tg\tf\ty\t2\tn\tn\ta\tb\thigh\n`);
  const s = await readGlue(dir, 'stsb', 'dev', { onWarning: (m) => warnings.push(m) });
  assert.equal(s.examples.length, 1);
  assert.match(warnings[2], /dev\.tsv:3: score 'high' is not a number/);
});

test('test files without a label column get label -1; CoLA test has a header', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'CoLA'));
  writeFileSync(join(dir, 'CoLA', 'test.tsv'), 'index\tsentence\n0\tBirds sing.\n1\tSing birds the.\n');
  const d = await readGlue(dir, 'cola', 'test');
  assert.deepEqual(d.examples, [{ textA: 'Birds sing.', label: -1 }, { textA: 'Sing birds the.', label: -1 }]);
  mkdirSync(join(dir, 'MNLI'));
  writeFileSync(join(dir, 'MNLI', 'test_matched.tsv'), 'index\tsentence1\tsentence2\n0\tA\tB\n');
  assert.deepEqual((await readGlue(dir, 'mnli', 'test')).examples, [{ textA: 'A', textB: 'B', label: -1 }]);
});

test('a missing file names the path and the expected layout; a wrong header names the columns', async () => {
  await assert.rejects(readGlue(join(data, 'nowhere'), 'RTE', 'train'), (e: Error) => {
    assert.match(e.message, /GLUE file not found: .*nowhere\/RTE\/train\.tsv/);
    assert.match(e.message, /<dir>\/RTE\/\{train,dev,test\}\.tsv/);
    return true;
  });
  await assert.rejects(readGlue(glue, 'qqp', 'train'), /QQP\/train\.tsv/);
  await assert.rejects(readGlue(glue, 'nope', 'train'), /unknown GLUE task 'nope'/);
  const dir = tempDir();
  mkdirSync(join(dir, 'QNLI'));
  writeFileSync(join(dir, 'QNLI', 'dev.tsv'), 'index\tquestion\tpassage\tlabel\n');
  await assert.rejects(readGlue(dir, 'qnli', 'dev'), /dev\.tsv:1: header lacks column\(s\) 'sentence'/);
});

test('IMDB: 3 + 3 reviews a split, neg (0) then pos (1), sorted by name, <br /> as newline', async () => {
  for (const split of ['train', 'test'] as const) {
    const d = await readImdb(join(data, 'aclImdb'), split);
    assert.equal(d.examples.length, 6);
    assert.deepEqual(d.labels, ['neg', 'pos']);
    assert.deepEqual(d.examples.map((e) => e.label), [0, 0, 0, 1, 1, 1]);
    assert.ok(d.examples.every((e) => !e.textA.includes('<br') && e.textA.includes('\n')));
  }
  const train = await readImdb(join(data, 'aclImdb'), 'train');
  assert.equal(train.examples[3].textA, 'A charming little film.\n\nThe lead actor carries every scene with ease.');
  // name order, not numeric: 0_8, 1_9, 2_10
  assert.equal(train.examples[5].textA, 'Beautifully shot and honestly acted.\nI would watch it again tomorrow.');
  await assert.rejects(readImdb(join(data, 'glue'), 'train'), /IMDB folder not found: .*train\/neg[\s\S]*\{pos,neg\}/);
});

test('CSV: RFC 4180 quoting — commas, doubled quotes, CRLF inside quotes, empty field, no final newline', async () => {
  const d = await readTextClassification(join(data, 'reviews.csv'));
  assert.deepEqual(d.labels, ['neg', 'neutral', 'pos']);
  assert.deepEqual(d.examples, [
    { textA: 'A plain review with no commas', label: 2 },
    { textA: 'Quoted, with a comma inside', label: 0 },
    { textA: 'She said "wow" twice', label: 2 },
    { textA: 'Two lines:\r\nthe second line', label: 0 },
    { textA: '', label: 1 },
    { textA: 'Last one without a trailing newline', label: 2 },
  ]);
  assert.equal(d.skipped, 0);
});

test('parseCsv: record start lines, and a stray quote after a closing quote is an error for that record', () => {
  const r = parseCsv('a,b\n"x\ny",1\n"bad"x,2\n3,4\n\n"open,5\n');
  assert.deepEqual(r, [
    { line: 1, fields: ['a', 'b'] },
    { line: 2, fields: ['x\ny', '1'] },
    { line: 4, error: `unexpected 'x' after a closing quote (a quote inside a quoted field is written "")` },
    { line: 5, fields: ['3', '4'] },
    { line: 7, error: 'unterminated quoted field' },
  ]);
  assert.deepEqual(parseCsv('a,,c,\n'), [{ line: 1, fields: ['a', '', 'c', ''] }]);
});

test('CSV bad rows: wrong field count reported with its line; integer labels are ids', async () => {
  const dir = tempDir();
  const file = join(dir, 'x.csv');
  writeFileSync(file, 'label,text\n1,"multi\nline"\n0,too,many\n2,fine\n');
  const warnings: string[] = [];
  const d = await readTextClassification(file, { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(d.examples, [{ textA: 'multi\nline', label: 1 }, { textA: 'fine', label: 2 }]);
  assert.deepEqual(d.labels, ['0', '1', '2']);
  assert.equal(d.skipped, 1);
  assert.match(warnings[0], /x\.csv:4: expected 2 fields, found 3/);
  await assert.rejects(readTextClassification(file, { onBadRow: 'fail' }), /x\.csv:4: expected 2 fields/);
  writeFileSync(join(dir, 'nolabel.csv'), 'title,body\nA,B\n');
  await assert.rejects(readTextClassification(join(dir, 'nolabel.csv')), /header lacks a 'text' column/);
  await assert.rejects(readTextClassification(join(dir, 'x.tsv')), /expected a \.csv or \.jsonl file/);
  await assert.rejects(readTextClassification(join(dir, 'missing.csv')), /cannot read .*missing\.csv/);
});

test('JSONL: integer labels as ids; bad lines reported with file:line', async () => {
  const d = await readTextClassification(join(data, 'reviews.jsonl'));
  assert.deepEqual(d.labels, ['0', '1', '2']);
  assert.deepEqual(d.examples.map((e) => e.label), [1, 0, 1, 0, 2]);
  assert.equal(d.examples[2].textA, 'A "must see" with a newline\nin it.');

  const dir = tempDir();
  const file = join(dir, 'y.jsonl');
  writeFileSync(file, '{"text":"a","label":"spam"}\n{"text":"b"\n{"label":"ham"}\n{"text":"c","label":"ham"}\n{"text":"d","label":1.5}\n');
  const warnings: string[] = [];
  const y = await readTextClassification(file, { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(y.labels, ['ham', 'spam']);
  assert.deepEqual(y.examples, [{ textA: 'a', label: 1 }, { textA: 'c', label: 0 }]);
  assert.equal(y.skipped, 3);
  assert.match(warnings[0], /y\.jsonl:2: invalid JSON/);
  assert.match(warnings[1], /y\.jsonl:3: 'text' is missing/);
  assert.match(warnings[2], /y\.jsonl:5: label 1\.5 is not a non-negative integer/);
  await assert.rejects(readTextClassification(file, { onBadRow: 'fail' }), /y\.jsonl:2: invalid JSON/);
});
