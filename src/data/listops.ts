/**
 * Long Range Arena's ListOps (docs/algorithm.md §3, after Nangia & Bowman 2018): prefix expressions over the
 * digits 0–9 with MAX, MIN, MED (median, truncated) and SM (sum mod 10), e.g.
 * `[MAX 2 9 [MIN 4 7 ] 0 ]`, whose value (0–9) is the label. The generator is seeded; the reader
 * takes the official TSV (`Source`, `Target`), including its form with every sub-expression wrapped
 * in `( … )` and with `]` written as `X`.
 */
import { readFile } from 'node:fs/promises';
import { seededRandom } from '../engine/seeded.js'; // (not the engine index: data generation needs no kernels)
import { writeFileAtomicSync } from '../io/atomic.js';
import { isKnown } from '../io/lookup.js';
import { noUsableRows } from './glue.js';

const OPERATORS = ['[MAX', '[MIN', '[MED', '[SM'] as const;
type Operator = (typeof OPERATORS)[number];

/** Token ids: 0 padding, 1–10 the digits 0–9, 11–14 the operators, 15 the closing bracket. Vocabulary 32 as in LRA. */
export const LISTOPS_VOCAB: Readonly<Record<string, number>> = Object.freeze({
  ...Object.fromEntries(Array.from({ length: 10 }, (_, d) => [String(d), d + 1])),
  ...Object.fromEntries(OPERATORS.map((op, i) => [op, 11 + i])),
  ']': 15,
});

export interface ListOpsExample {
  source: string;
  target: number;
}

export interface ListOpsOptions {
  count: number;
  seed: number;
  /** Token counts (operators, digits and brackets) strictly between these, as LRA's 500 and 2000. */
  minLength?: number;
  maxLength?: number;
  /** Levels of a tree, the root's being 1; the last holds digits only (LRA's max_depth: 10). */
  maxDepth?: number;
  maxArgs?: number;
  /** Called with the number drawn so far, every 500 expressions and at the end (generation takes minutes at LRA's sizes). */
  onProgress?: (done: number) => void;
}

type Tree = number | { op: Operator; args: Tree[] };

/** Raised whenever the generator draws other expressions for the same seed (2: LRA's levels and strict lengths). */
export const LISTOPS_GENERATOR = 2;

/**
 * Expressions whose token count lies strictly between minLength and maxLength, with their values, drawn as
 * LRA's generator (lra_benchmarks/data/listops.py) draws them: the root is level 1, a node above the last
 * level is an operator with probability 1/4 (VALUE_P) and has 2–maxArgs arguments, trees of another
 * length are rejected.
 */
export function generateListOps(o: ListOpsOptions): ListOpsExample[] {
  const { count, seed, minLength = 500, maxLength = 2000, maxDepth = 10, maxArgs = 10 } = o;
  if (!(minLength >= 0 && maxLength >= minLength + 2)) throw new Error(`ListOps: need 0 ≤ minLength < maxLength − 1 (lengths strictly between), got ${minLength}, ${maxLength}`);
  const rand = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  // Growth stops once a tree is too long to be kept: it will be rejected anyway, so no kept tree changes.
  const grow = (depth: number, budget: { left: number }): Tree => {
    if (depth >= maxDepth || budget.left <= 0 || rand() >= 0.25) {
      budget.left--;
      return int(0, 9);
    }
    budget.left -= 2;
    const args = Array.from({ length: int(2, maxArgs) }, () => grow(depth + 1, budget));
    return { op: OPERATORS[int(0, 3)], args };
  };
  const out: ListOpsExample[] = [];
  for (let tries = 0; out.length < count; tries++) {
    if (tries > 1000 * count + 100_000) throw new Error(`ListOps: could not draw expressions of ${minLength}–${maxLength} tokens (depth ${maxDepth}, ${maxArgs} arguments)`);
    const budget = { left: maxLength };
    // a root that is a digit is one token long, always rejected: draw operators only
    const root: Tree = { op: OPERATORS[int(0, 3)], args: Array.from({ length: int(2, maxArgs) }, () => grow(2, budget)) };
    const tokens = flatten(root);
    if (tokens.length <= minLength || tokens.length >= maxLength) continue;
    out.push({ source: wrapped(root), target: valueOf(root) });
    if (out.length % 500 === 0 || out.length === count) o.onProgress?.(out.length);
  }
  return out;
}

function flatten(t: Tree): string[] {
  return typeof t === 'number' ? [String(t)] : [t.op, ...t.args.flatMap(flatten), ']'];
}

/** The official generator's form: every operator application inside `( … )`. */
function wrapped(t: Tree): string {
  return typeof t === 'number' ? String(t) : `( ${t.op} ${t.args.map(wrapped).join(' ')} ] )`;
}

function apply(op: Operator, xs: number[]): number {
  if (op === '[MAX') return Math.max(...xs);
  if (op === '[MIN') return Math.min(...xs);
  if (op === '[SM') return xs.reduce((s, x) => s + x, 0) % 10;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return Math.trunc(sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2);
}

function valueOf(t: Tree): number {
  return typeof t === 'number' ? t : apply(t.op, t.args.map(valueOf));
}

/**
 * The ids of an expression without its closing brackets: what LRA's input pipeline fed models until June 2021,
 * its tokenizer keeping alphanumeric tokens only (the pipeline the paper's code prepared its data with).
 */
export const withoutBrackets = (ids: readonly number[]): number[] => ids.filter((id) => id !== LISTOPS_VOCAB[']']);

/** The tokens of a Source string: parentheses dropped, `X` read as `]`. */
export function listOpsTokens(source: string): string[] {
  return source.replace(/[()]/g, ' ').split(/\s+/).filter((t) => t.length > 0).map((t) => (t === 'X' ? ']' : t));
}

/** Evaluates a Source string (either form); errors say what is malformed. */
export function evaluateListOps(source: string): number {
  const stack: { op: Operator; args: number[] }[] = [];
  let result: number | undefined;
  for (const token of listOpsTokens(source)) {
    if ((OPERATORS as readonly string[]).includes(token)) stack.push({ op: token as Operator, args: [] });
    else if (token === ']') {
      const top = stack.pop();
      if (!top || top.args.length === 0) throw new Error(`ListOps: unbalanced or empty ']'`);
      const value = apply(top.op, top.args);
      if (stack.length > 0) stack[stack.length - 1].args.push(value);
      else if (result === undefined) result = value;
      else throw new Error('ListOps: more than one expression');
    } else if (/^\d$/.test(token)) {
      if (stack.length === 0) throw new Error(`ListOps: digit ${token} outside any operator`);
      stack[stack.length - 1].args.push(Number(token));
    } else throw new Error(`ListOps: unknown token '${token}'`);
  }
  if (stack.length > 0 || result === undefined) throw new Error('ListOps: unclosed expression');
  return result;
}

/** Writes the official TSV layout: a `Source\tTarget` header, then one expression per line. */
export function writeListOpsTsv(path: string, examples: readonly ListOpsExample[]): void {
  writeFileAtomicSync(path, ['Source\tTarget', ...examples.map((e) => `${e.source}\t${e.target}`)].join('\n') + '\n');
}

/** Reads an LRA ListOps TSV into token ids (see LISTOPS_VOCAB) and labels; errors name file and line. */
export async function readListOps(path: string): Promise<{ inputIds: number[]; label: number }[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`${path}: cannot read the ListOps file (expected LRA's basic_train.tsv / basic_val.tsv / basic_test.tsv layout)`);
  }
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.split('\t') ?? [];
  const [si, ti] = [header.indexOf('Source'), header.indexOf('Target')];
  if (si < 0 || ti < 0) throw new Error(`${path}:1: expected a header with 'Source' and 'Target' columns, got '${lines[0] ?? ''}'`);
  const out: { inputIds: number[]; label: number }[] = [];
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = line.split('\t');
    const where = `${path}:${i + 2}`;
    // Number('') and Number(' ') are 0: only a written digit is a label.
    if (!/^\s*\d\s*$/.test(cells[ti] ?? '')) throw new Error(`${where}: Target must be a digit 0–9, got '${cells[ti] ?? ''}'`);
    const label = Number(cells[ti]);
    const inputIds = listOpsTokens(cells[si] ?? '').map((t) => {
      if (!isKnown(LISTOPS_VOCAB, t)) throw new Error(`${where}: unknown token '${t}'`);
      return LISTOPS_VOCAB[t];
    });
    out.push({ inputIds, label });
  });
  if (out.length === 0) throw noUsableRows(path, 0, 'a header but no expressions');
  return out;
}
