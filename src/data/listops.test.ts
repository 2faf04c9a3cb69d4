import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateListOps, generateListOps, LISTOPS_VOCAB, listOpsTokens, readListOps, writeListOpsTsv } from './listops.js';

test('evaluation by hand: MAX, MIN, MED (truncated), SM (mod 10), nesting, both written forms', () => {
  assert.equal(evaluateListOps('[MAX 2 9 [MIN 4 7 ] 0 ]'), 9);
  assert.equal(evaluateListOps('[MED 1 2 3 4 ]'), 2); // median 2.5, truncated
  assert.equal(evaluateListOps('[MED 5 1 9 ]'), 5);
  assert.equal(evaluateListOps('[SM 9 8 ]'), 7);
  assert.equal(evaluateListOps('[MIN [MAX 1 2 ] [SM 5 6 ] ]'), 1);
  assert.equal(evaluateListOps('( ( ( [MIN ( ( [MAX 1 2 X ) ) ( [SM 5 6 X ) X )'), 1);
  assert.throws(() => evaluateListOps('[MAX 1 2'), /unclosed/);
  assert.throws(() => evaluateListOps('[MAX 1 [FOO 2 ] ]'), /unknown token '\[FOO'/);
  assert.throws(() => evaluateListOps('3 [MAX 1 ]'), /digit 3 outside any operator/);
});

/** Levels of an expression, the root's being 1 and a digit one level below its operator. */
function levels(source: string): number {
  let open = 0;
  let deepest = 0;
  for (const t of listOpsTokens(source)) {
    if (t.startsWith('[')) open++;
    else if (t === ']') open--;
    else deepest = Math.max(deepest, open + 1);
  }
  return deepest;
}

test('generator: seeded, lengths strictly within bounds, every label the value of its expression, all classes', () => {
  const a = generateListOps({ count: 60, seed: 3, minLength: 100, maxLength: 400 });
  assert.deepEqual(a, generateListOps({ count: 60, seed: 3, minLength: 100, maxLength: 400 }));
  assert.notDeepEqual(a, generateListOps({ count: 60, seed: 4, minLength: 100, maxLength: 400 }));
  for (const e of a) {
    const n = listOpsTokens(e.source).length;
    assert.ok(n > 100 && n < 400, `length ${n}`);
    assert.equal(evaluateListOps(e.source), e.target);
    assert.ok(e.source.startsWith('( ['), 'the official wrapped form');
  }
  assert.ok(new Set(a.map((e) => e.target)).size >= 8, 'labels spread over the classes');
});

test("generator: trees have LRA's levels (the root is level 1, the last holds digits only)", () => {
  assert.equal(levels('( [MAX 2 9 ( [MIN 4 7 ] ) 0 ] )'), 3);
  for (const maxDepth of [3, 10]) {
    const depths = generateListOps({ count: 40, seed: 5, minLength: 20, maxLength: 200, maxDepth }).map((e) => levels(e.source));
    // LRA's generate_tree(1, max_depth): operators on levels 1 to max_depth − 1, digits down to max_depth
    assert.equal(Math.max(...depths), maxDepth, `maxDepth ${maxDepth}: deepest ${Math.max(...depths)}`);
  }
});

test('TSV: write, then read into token ids; bad rows name the file and line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'listops-'));
  try {
    const examples = generateListOps({ count: 5, seed: 1, minLength: 20, maxLength: 60 });
    const path = join(dir, 'basic_train.tsv');
    writeListOpsTsv(path, examples);
    const read = await readListOps(path);
    assert.deepEqual(read.map((r) => r.label), examples.map((e) => e.target));
    assert.deepEqual(read[0].inputIds, listOpsTokens(examples[0].source).map((t) => LISTOPS_VOCAB[t]));
    writeFileSync(path, 'Source\tTarget\n( [MAX 1 2 X )\t2\n[MAX 1 3 ]\t12\n');
    await assert.rejects(readListOps(path), new RegExp(`${path.replace(/[.]/g, '\\.')}:3: Target must be a digit`));
    writeFileSync(path, 'Source\tTarget\n[MAX 1 # ]\t2\n');
    await assert.rejects(readListOps(path), /:2: unknown token '#'/);
    writeFileSync(path, 'Text\tLabel\n');
    await assert.rejects(readListOps(path), /:1: expected a header with 'Source' and 'Target'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
