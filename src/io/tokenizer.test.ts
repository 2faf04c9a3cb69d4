/**
 * The tokenizer against test/fixtures/tokenizer (made by scripts/fixtures/make_tokenizer.py): a
 * 300-piece ALBERT-style Unigram tokenizer, with expected ids from the script's own Viterbi.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from './tokenizer.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = resolve(here, '../../../test/fixtures/tokenizer');
const readJson = (name: string) => JSON.parse(readFileSync(join(fixtures, name), 'utf8'));

interface Expected {
  vocab_size: number;
  single: { text: string; tokens: string[]; ids: number[]; input_ids: number[]; token_type_ids: number[]; decoded: string; decoded_with_specials: string }[];
  pair: { text: string; pair: string; ids_a: number[]; ids_b: number[]; input_ids: number[]; token_type_ids: number[] }[];
}
const expected: Expected = readJson('expected.json');
const tok = await Tokenizer.fromDir(fixtures);
const [CLS, SEP, PAD] = [2, 3, 0];
const ones = (n: number) => new Array<number>(n).fill(1);
const zeros = (n: number) => new Array<number>(n).fill(0);

test('loads the fixture: vocabulary, special tokens, model_max_length', () => {
  assert.equal(tok.vocabSize, 300);
  assert.equal(expected.vocab_size, 300);
  assert.deepEqual(
    [tok.padToken, tok.unkToken, tok.clsToken, tok.sepToken, tok.maskToken],
    ['<pad>', '<unk>', '[CLS]', '[SEP]', '[MASK]'],
  );
  assert.deepEqual([tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId], [0, 1, 2, 3, 4]);
  assert.equal(tok.modelMaxLength, 510);
  assert.equal(tok.tokenToId('▁paris'), 74);
  assert.equal(tok.idToToken(74), '▁paris');
  assert.equal(tok.tokenToId('no such piece'), undefined);
  assert.equal(tok.idToToken(300), undefined);
});

test('single texts: the ids of an independent Viterbi (the fixture script)', () => {
  for (const e of expected.single) {
    const got = tok.encode(e.text);
    assert.deepEqual(got.inputIds, e.input_ids, JSON.stringify(e.text));
    assert.deepEqual(got.tokenTypeIds, e.token_type_ids);
    assert.deepEqual(got.attentionMask, ones(e.input_ids.length));
    assert.deepEqual(got.tokens, ['[CLS]', ...e.tokens, '[SEP]']);
    assert.deepEqual(tok.encode(e.text, { addSpecialTokens: false }).inputIds, e.ids);
  }
  assert.deepEqual(tok.encode('Paris is the capital of France.').tokens,
    ['[CLS]', '▁paris', '▁is', '▁the', '▁capital', '▁of', '▁france', '.', '[SEP]']);
});

test('pairs: [CLS] A [SEP] B [SEP] with token type ids 0 then 1, in every call form', () => {
  for (const e of expected.pair) {
    for (const got of [tok.encode(e.text, e.pair), tok.encode({ text: e.text, pair: e.pair })]) {
      assert.deepEqual(got.inputIds, e.input_ids, JSON.stringify([e.text, e.pair]));
      assert.deepEqual(got.tokenTypeIds, e.token_type_ids);
      assert.deepEqual(got.attentionMask, ones(e.input_ids.length));
    }
    const bare = tok.encode(e.text, e.pair, { addSpecialTokens: false });
    assert.deepEqual(bare.inputIds, [...e.ids_a, ...e.ids_b]);
    assert.deepEqual(bare.tokenTypeIds, [...zeros(e.ids_a.length), ...ones(e.ids_b.length)]);
  }
  // An empty pair is still a pair (the wrapped library would drop it).
  assert.deepEqual(tok.encode('paris', '').inputIds, [CLS, 74, SEP, SEP]);
  assert.deepEqual(tok.encode('paris', '').tokenTypeIds, [0, 0, 0, 1]);
});

test('normalization: lower case, accents stripped, `` and \'\' to ", whitespace collapsed', () => {
  const ids = (t: string) => tok.encode(t).inputIds;
  assert.deepEqual(ids('PARIS Is THE Capital OF fRANCE.'), ids('paris is the capital of france.'));
  assert.deepEqual(ids('Héllo Wörld, café Zürich naïve'), ids('hello world, cafe zurich naive'));
  assert.deepEqual(ids('``good\'\' film'), ids('"good" film'));
  assert.deepEqual(ids('  a \t good\n\nfilm  '), ids('a good film'));
  // Lowercase ASCII never needs <unk>; other scripts do, one <unk> per run.
  const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
  assert.ok(!tok.encode(ascii).inputIds.includes(tok.unkTokenId));
  assert.deepEqual(tok.encode('東京', { addSpecialTokens: false }).inputIds, [5, tok.unkTokenId]);
});

test('[MASK] is one token inside text, whatever the case around it', () => {
  const e = tok.encode('paris is the [MASK] of france.');
  assert.equal(e.inputIds[4], tok.maskTokenId);
  assert.equal(e.tokens[4], '[MASK]');
  assert.equal(e.inputIds.filter((id) => id === tok.maskTokenId).length, 1);
  assert.deepEqual(tok.encode('Paris is the [MASK] of France.').inputIds, e.inputIds);
  // lstrip: the space before [MASK] goes with it; the lower-case spelling is plain text.
  assert.deepEqual(tok.encode('the   [MASK]').inputIds, [CLS, 76, tok.maskTokenId, SEP]);
  assert.ok(!tok.encode('the [mask]').inputIds.includes(tok.maskTokenId));
});

test('truncation of one text keeps [CLS] and [SEP]', () => {
  const ids = expected.single[0].ids; // 7 content tokens
  assert.deepEqual(tok.encode(expected.single[0].text, { maxLength: 5 }).inputIds, [CLS, ...ids.slice(0, 3), SEP]);
  assert.deepEqual(tok.encode(expected.single[0].text, { maxLength: 5, truncation: 'only_first' }).inputIds, [CLS, ...ids.slice(0, 3), SEP]);
  assert.deepEqual(tok.encode(expected.single[0].text, { maxLength: 9 }).inputIds, expected.single[0].input_ids);
  assert.deepEqual(tok.encode(expected.single[0].text, { maxLength: 2 }).inputIds, [CLS, SEP]);
  assert.deepEqual(tok.encode(expected.single[0].text, { maxLength: 4, addSpecialTokens: false }).inputIds, ids.slice(0, 4));
  // truncation: true without maxLength cuts to model_max_length (510).
  const long = 'paris is the capital of france. '.repeat(100);
  assert.equal(tok.encode(long, { truncation: true }).inputIds.length, 510);
  assert.equal(tok.encode(long).inputIds.length, 2 + 7 * 100, 'no limit unless asked');
});

test('truncation of pairs: longest_first (Hugging Face fast rule), only_first, only_second', () => {
  const { text, pair, ids_a: a, ids_b: b } = expected.pair[0]; // 7 and 4 content tokens
  assert.equal(a.length, 7);
  assert.equal(b.length, 4);
  const enc = (maxLength: number, truncation?: boolean | 'longest_first' | 'only_first' | 'only_second') =>
    tok.encode(text, pair, { maxLength, truncation });
  const build = (na: number, nb: number) => [CLS, ...a.slice(0, na), SEP, ...b.slice(0, nb), SEP];
  // Budget = maxLength − 3 special tokens. The shorter stays whole while the longer can absorb the cut…
  assert.deepEqual(enc(12).inputIds, build(5, 4));
  assert.deepEqual(enc(11, true).inputIds, build(4, 4));
  assert.deepEqual(enc(11, 'longest_first').tokenTypeIds, [...zeros(6), ...ones(5)]);
  // …otherwise both get budget/2 and the originally longer one the odd token.
  assert.deepEqual(enc(10).inputIds, build(4, 3));
  assert.deepEqual(enc(9).inputIds, build(3, 3));
  assert.deepEqual(enc(3).inputIds, build(0, 0));
  const same = tok.encode('a good film', 'a bad film', { maxLength: 8 }); // 3 + 3 tokens, budget 5
  assert.deepEqual(same.inputIds, [CLS, 80, 81, SEP, 80, 82, 84, SEP]);
  assert.deepEqual(enc(10, 'only_first').inputIds, build(3, 4));
  assert.deepEqual(enc(12, 'only_second').inputIds, build(7, 2));
  assert.deepEqual(enc(14, 'only_second').inputIds, expected.pair[0].input_ids);
  assert.throws(() => enc(7, 'only_second'), /only_second.*second sequence has 4 tokens, but 7 must go \(room for 4 besides/);
  assert.throws(() => enc(6, 'only_first'), /only_first.*first sequence has 7 tokens, but 8 must go/);
  assert.throws(() => tok.encode(text, { maxLength: 5, truncation: 'only_second' }), /only_second' needs a text pair/);
});

test('too long without truncation, and bad options, are errors that give the numbers', () => {
  assert.throws(() => tok.encode(expected.single[0].text, { maxLength: 5, truncation: false }),
    /fixtures\/tokenizer: the input is 9 tokens \(2 of them special\), longer than maxLength 5; pass truncation: true/);
  assert.throws(() => tok.encode(expected.pair[0].text, expected.pair[0].pair, { maxLength: 2 }), /maxLength 2 leaves no room for the 3 special tokens/);
  assert.throws(() => tok.encode('a', { maxLength: 0 }), /maxLength must be a positive integer, got 0/);
  assert.throws(() => tok.encode('a', { maxLength: 2.5 }), /maxLength must be a positive integer, got 2.5/);
  assert.throws(() => tok.encode('a', { padding: 'max_length', padToMultipleOf: -8 }), /padToMultipleOf must be a positive integer, got -8/);
  assert.throws(() => tok.encode(42 as unknown as string), /the text must be a string, got number/);
  assert.doesNotThrow(() => tok.encode(expected.single[0].text, { maxLength: 9, truncation: false }));
});

test('padding: max_length, longest, pad_to_multiple_of; attention masks', () => {
  const e = expected.single[0];
  const n = e.input_ids.length; // 9
  const padded = tok.encode(e.text, { padding: 'max_length', maxLength: 12 });
  assert.deepEqual(padded.inputIds, [...e.input_ids, PAD, PAD, PAD]);
  assert.deepEqual(padded.attentionMask, [...ones(n), 0, 0, 0]);
  assert.deepEqual(padded.tokenTypeIds, zeros(12));
  assert.deepEqual(padded.tokens.slice(n), ['<pad>', '<pad>', '<pad>']);
  assert.equal(tok.encode(e.text, { padding: 'max_length' }).inputIds.length, 510, 'default: model_max_length');
  assert.deepEqual(tok.encode(e.text, { padding: 'longest' }).inputIds, e.input_ids);
  assert.deepEqual(tok.encode(e.text, { padding: true, padToMultipleOf: 8 }).attentionMask, [...ones(n), ...zeros(7)]);
  const p = expected.pair[0];
  const pair = tok.encode(p.text, p.pair, { padding: 'max_length', maxLength: 16 });
  assert.deepEqual(pair.tokenTypeIds, [...p.token_type_ids, 0, 0]);
  assert.deepEqual(pair.attentionMask, [...ones(14), 0, 0]);
});

test('batches: padded to the longest by default, or to max_length; pairs as tuples', () => {
  const texts = expected.single.slice(0, 3);
  const batch = tok.encodeBatch(texts.map((e) => e.text));
  const longest = Math.max(...texts.map((e) => e.input_ids.length));
  texts.forEach((e, i) => {
    const pad = longest - e.input_ids.length;
    assert.deepEqual(batch.inputIds[i], [...e.input_ids, ...zeros(pad).map(() => PAD)]);
    assert.deepEqual(batch.attentionMask[i], [...ones(e.input_ids.length), ...zeros(pad)]);
    assert.deepEqual(batch.tokenTypeIds[i], zeros(longest));
  });
  const fixed = tok.encodeBatch(texts.map((e) => e.text), { padding: 'max_length', maxLength: 12 });
  assert.deepEqual(fixed.inputIds.map((r) => r.length), [12, 12, 12]);
  assert.deepEqual(fixed.inputIds[2], tok.encode(texts[2].text, { maxLength: 12 }).inputIds, 'long rows truncated');
  const ragged = tok.encodeBatch(texts.map((e) => e.text), { padding: false });
  assert.deepEqual(ragged.inputIds, texts.map((e) => e.input_ids));
  const pairs = tok.encodeBatch(expected.pair.map((p) => [p.text, p.pair] as [string, string]), { padToMultipleOf: 8 });
  const width = Math.ceil(Math.max(...expected.pair.map((p) => p.input_ids.length)) / 8) * 8;
  expected.pair.forEach((p, i) => {
    assert.equal(pairs.inputIds[i].length, width);
    assert.deepEqual(pairs.inputIds[i].slice(0, p.input_ids.length), p.input_ids);
    assert.deepEqual(pairs.tokenTypeIds[i], [...p.token_type_ids, ...zeros(width - p.input_ids.length)]);
  });
  assert.deepEqual(tok.encodeBatch([]).inputIds, []);
});

test('decode: round trip, with and without special tokens', () => {
  for (const e of expected.single) {
    assert.equal(tok.decode(e.input_ids, { skipSpecialTokens: true }), e.decoded, JSON.stringify(e.text));
    assert.equal(tok.decode(e.input_ids), e.decoded_with_specials);
  }
  const text = 'paris is the capital of france.';
  assert.equal(tok.decode(tok.encode(text).inputIds, { skipSpecialTokens: true }), text);
  assert.equal(tok.decode(tok.encode(text).inputIds), `[CLS] ${text}[SEP]`);
  assert.equal(tok.decode(tok.encode('a good film!').inputIds, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false }), 'a good film!');
  assert.equal(tok.decode([]), '');
  assert.throws(() => tok.decode([2, 300]), /decode: token id 300 is not in 0..299/);
  assert.throws(() => tok.decode([-1]), /token id -1/);
});

test('fromJSON works without the file system, with or without the config files', () => {
  const json = readJson('tokenizer.json');
  const full = Tokenizer.fromJSON(json, readJson('tokenizer_config.json'), readJson('special_tokens_map.json'));
  for (const e of expected.single) assert.deepEqual(full.encode(e.text).inputIds, e.input_ids);
  assert.equal(full.modelMaxLength, 510);
  // tokenizer.json alone: specials from the template, the model's unk and the usual spellings.
  const bare = Tokenizer.fromJSON(json);
  assert.deepEqual([bare.clsTokenId, bare.sepTokenId, bare.padTokenId, bare.unkTokenId, bare.maskTokenId], [2, 3, 0, 1, 4]);
  assert.equal(bare.modelMaxLength, Infinity);
  assert.deepEqual(bare.encode('paris is the [MASK] of france.').inputIds, expected.single[3].input_ids);
  // The compiled module imports no Node built-in at load time (fromDir imports node:fs lazily).
  const compiled = readFileSync(join(here, 'tokenizer.js'), 'utf8');
  assert.doesNotMatch(compiled, /^import .* from ['"]node:/m);
});

test('special tokens: special_tokens_map over tokenizer_config, strings or {content} objects, checked', () => {
  const json = readJson('tokenizer.json');
  const t = Tokenizer.fromJSON(json, { mask_token: { content: '<pad>', lstrip: true } }, { pad_token: '[MASK]' });
  assert.deepEqual([t.maskToken, t.maskTokenId, t.padToken, t.padTokenId], ['<pad>', 0, '[MASK]', 4]);
  assert.throws(() => Tokenizer.fromJSON(json, { mask_token: '<mask>' }),
    /tokenizer\.json: tokenizer_config\.json names mask_token '<mask>', which is not in the vocabulary/);
  assert.throws(() => Tokenizer.fromJSON({ version: '1.0' }), /tokenizer\.json: tokenizer\.json has no "model" object/);
});

test('folders: a missing tokenizer.json (spiece.model only) and broken JSON are named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenizer-test-'));
  try {
    writeFileSync(join(dir, 'spiece.model'), 'not really');
    await assert.rejects(Tokenizer.fromDir(dir), (err: Error) => {
      assert.ok(err.message.startsWith(`${dir}: no tokenizer.json; a tokenizer.json is needed`), err.message);
      assert.match(err.message, /spiece\.model.*not supported/);
      return true;
    });
    writeFileSync(join(dir, 'tokenizer.json'), readFileSync(join(fixtures, 'tokenizer.json')));
    writeFileSync(join(dir, 'tokenizer_config.json'), '{"model_max_length": 12,');
    await assert.rejects(Tokenizer.fromDir(dir), new RegExp(`${join(dir, 'tokenizer_config.json')}: not valid JSON`));
    writeFileSync(join(dir, 'tokenizer_config.json'), '[1, 2]');
    await assert.rejects(Tokenizer.fromDir(dir), /tokenizer_config\.json: expected a JSON object, got an array/);
    rmSync(join(dir, 'tokenizer_config.json'));
    const t = await Tokenizer.fromDir(dir);
    assert.deepEqual(t.encode(expected.single[0].text).inputIds, expected.single[0].input_ids);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tokenizer.json whose patterns can backtrack exponentially is refused at once, naming the file and the pattern', async () => {
  const json = readJson('tokenizer.json');
  const replace = (regex: string) => ({ type: 'Replace', pattern: { Regex: regex }, content: '' });
  const split = (regex: string) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });
  const refused: [object, RegExp][] = [
    [{ normalizer: replace('(a+)+$') }, /^Error: tokenizer\.json: tokenizer\.json's normalizer pattern '\(a\+\)\+\$' has nested quantifiers \('\(a\+\)\+'\) that can take exponential time/],
    [{ normalizer: { type: 'Sequence', normalizers: [...json.normalizer.normalizers, replace('x(a*)*y')] } }, /normalizer\.normalizers\[6\] pattern 'x\(a\*\)\*y' has nested quantifiers \('\(a\*\)\*'\)/],
    [{ pre_tokenizer: split('(?:a|a)*b') }, /pre_tokenizer pattern '\(\?:a\|a\)\*b' repeats alternatives that can match the same text \('\(\?:a\|a\)\*'\)/],
    [{ pre_tokenizer: { type: 'Sequence', pretokenizers: [split('(.*a){12}')] } }, /pre_tokenizer\.pretokenizers\[0\] pattern '\(\.\*a\)\{12\}' has nested quantifiers/],
    [{ decoder: replace('^(\\w|\\d)+$') }, /decoder pattern '\^\(\\w\|\\d\)\+\$' repeats alternatives that can match the same text/],
  ];
  for (const [patch, message] of refused) {
    const started = performance.now();
    assert.throws(() => Tokenizer.fromJSON({ ...json, ...patch }), message);
    assert.ok(performance.now() - started < 200, `refused at once: ${message}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tokenizer-test-'));
  try {
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ ...json, normalizer: replace('(a+)+$') }));
    await assert.rejects(Tokenizer.fromDir(dir), (err: Error) => err.message.startsWith(`${dir}: tokenizer.json's normalizer pattern '(a+)+$' has nested quantifiers`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // the patterns real tokenizers use load (GPT-2's and Llama 3's splits, ALBERT's and others' replacements)
  for (const regex of [
    " {2,}", "\\s+", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
    "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    "(?:\\r\\n|\\n)+", "(?:\\S|\\s(?!\\s))+", "(?:'s|'t)?\\p{L}+", "(ab){2,}", "[(a+)+]",
  ]) {
    assert.doesNotThrow(() => Tokenizer.fromJSON({ ...json, pre_tokenizer: split(regex) }), regex);
  }
});
