/**
 * Finds, in a regular expression's source, the two constructs that make a backtracking engine take
 * exponential time on some inputs ("catastrophic backtracking"):
 *
 *   nested quantifiers     a repeated group holding a quantifier of its own: (a+)+, (a*)*, (.*a){12}, (a?a)+
 *   overlapping choices    a repeated group whose alternatives can begin with the same character: (a|a)*, (\w|\d)+
 *
 * Each lets the engine split one input among the repetitions in exponentially many ways, all tried
 * before a match fails. Tokenizer patterns run inside @huggingface/tokenizers, where nothing can
 * interrupt them (29 characters took 51 s), so a tokenizer holding one is refused as it loads. This is
 * a check of the pattern's shape, not a proof: the patterns real tokenizers use hold neither construct
 * (their groups are not repeated, or repeat fixed, disjoint pieces), and a polynomial pattern such as
 * \s*\s*$ passes.
 */

export interface Backtracking {
  kind: 'nested quantifiers' | 'overlapping alternatives';
  /** The repeated group, as written in the pattern. */
  construct: string;
}

/** A parsed piece of a pattern: one character matcher, or a group of alternatives, with its quantifier. */
interface Piece {
  start: number;
  end: number;
  min: number;
  max: number;
  /** The source of a one-character matcher: a literal, an escape, a class, '.'. */
  atom?: string;
  /** A group's alternatives. */
  alternatives?: Piece[][];
  /** Anchors, \b, lookarounds, inline flags: they match no character. */
  zeroWidth?: boolean;
}

/** The first construct that can backtrack exponentially, or undefined (also for a pattern this cannot parse). */
export function exponentialBacktracking(pattern: string): Backtracking | undefined {
  let alternatives: Piece[][];
  try {
    alternatives = new PatternParser(pattern).parse();
  } catch {
    return undefined; // not ours to judge: the tokenizer library reports patterns it cannot compile
  }
  return find(alternatives, pattern);
}

function find(alternatives: Piece[][], pattern: string): Backtracking | undefined {
  for (const piece of alternatives.flat()) {
    if (!piece.alternatives) continue;
    if (piece.max > 1 && !piece.zeroWidth) {
      const construct = pattern.slice(piece.start, piece.end);
      if (piece.alternatives.some(holdsVariableQuantifier)) return { kind: 'nested quantifiers', construct };
      if (overlap(piece.alternatives)) return { kind: 'overlapping alternatives', construct };
    }
    const inner = find(piece.alternatives, pattern);
    if (inner) return inner;
  }
  return undefined;
}

/** True when a piece matches a varying number of times (lookarounds aside: they never backtrack into). */
function holdsVariableQuantifier(branch: Piece[]): boolean {
  return branch.some((p) => !p.zeroWidth && (p.min !== p.max || (p.alternatives?.some(holdsVariableQuantifier) ?? false)));
}

/** True when two alternatives can begin with the same character. */
function overlap(alternatives: Piece[][]): boolean {
  const firsts = alternatives.map(firstAtoms);
  for (let i = 0; i < firsts.length; i++) {
    for (let j = i + 1; j < firsts.length; j++) {
      if (firsts[i].some((a) => firsts[j].some((b) => sameCharacter(a, b)))) return true;
    }
  }
  return false;
}

/** The one-character matchers an alternative can begin with. */
function firstAtoms(branch: Piece[]): string[] {
  const atoms: string[] = [];
  for (const piece of branch) {
    if (piece.zeroWidth) continue;
    if (piece.atom !== undefined) atoms.push(piece.atom);
    else if (piece.alternatives) atoms.push(...piece.alternatives.flatMap(firstAtoms));
    if (piece.min > 0) break; // an optional piece lets the next one begin the match
  }
  return atoms;
}

/** Characters tried against two matchers: Latin-1, Latin Extended and a few from other scripts. */
const SAMPLES = [
  ...Array.from({ length: 0x250 }, (_, c) => String.fromCharCode(c)),
  '\u2581', '\u2028', '\u3000', 'Ω', 'Ж', 'ا', '١', 'あ', 'ー', '中', '𝟘', '😀',
];
const compiled = new Map<string, RegExp | null>();

function matcher(atom: string): RegExp | null {
  if (!compiled.has(atom)) {
    let re: RegExp | null = null;
    for (const flags of ['u', '']) {
      try {
        re = new RegExp(`^(?:${atom})$`, flags);
        break;
      } catch {
        // try without 'u', then give up on this matcher
      }
    }
    compiled.set(atom, re);
  }
  return compiled.get(atom)!;
}

/** Whether two one-character matchers share a character, judged on samples and on their own literals. */
function sameCharacter(a: string, b: string): boolean {
  if (a === b) return true;
  const [ra, rb] = [matcher(a), matcher(b)];
  if (!ra || !rb) return false;
  return [...SAMPLES, a, b].some((c) => ra.test(c) && rb.test(c));
}

/** A recursive-descent reader of the regex syntax tokenizer.json files use (Oniguruma's, close to JavaScript's). */
class PatternParser {
  #at = 0;

  constructor(readonly source: string) {}

  parse(): Piece[][] {
    const alternatives = this.#alternatives();
    if (this.#at < this.source.length) throw new Error(`unbalanced ')' at ${this.#at}`);
    return alternatives;
  }

  /** Alternatives up to a ')' (left unread) or the end. */
  #alternatives(): Piece[][] {
    const alternatives: Piece[][] = [[]];
    const s = this.source;
    while (this.#at < s.length && s[this.#at] !== ')') {
      if (s[this.#at] === '|') {
        this.#at++;
        alternatives.push([]);
        continue;
      }
      const branch = alternatives[alternatives.length - 1];
      if (this.#quantifier(branch[branch.length - 1])) continue;
      branch.push(this.#piece());
    }
    return alternatives;
  }

  #piece(): Piece {
    const s = this.source;
    const start = this.#at;
    const c = s[this.#at];
    const piece = (fields: Partial<Piece>): Piece => ({ start, end: this.#at, min: 1, max: 1, ...fields });
    if (c === '(') return this.#group();
    if (c === '^' || c === '$') return (this.#at++, piece({ zeroWidth: true }));
    if (c === '[') return (this.#skipClass(), piece({ atom: s.slice(start, this.#at) }));
    if (c === '\\') {
      const letter = s[this.#at + 1] ?? '';
      this.#skipEscape();
      return piece('bBAzZG'.includes(letter) ? { zeroWidth: true } : { atom: s.slice(start, this.#at) });
    }
    this.#at += String.fromCodePoint(s.codePointAt(this.#at)!).length;
    return piece({ atom: s.slice(start, this.#at) });
  }

  /** '(' … ')': capturing, named, non-capturing, flag groups, lookarounds and inline flags '(?i)'. */
  #group(): Piece {
    const s = this.source;
    const start = this.#at++;
    let zeroWidth = false;
    if (s[this.#at] === '?') {
      const head = /^\?(?:<?[=!]|<[A-Za-z_]\w*>|[A-Za-z-]*[:)]|>)/.exec(s.slice(this.#at, this.#at + 40))?.[0];
      if (head === undefined) throw new Error(`unknown group at ${start}`);
      this.#at += head.length;
      if (head.endsWith(')')) return { start, end: this.#at, min: 1, max: 1, zeroWidth: true }; // inline flags
      zeroWidth = /^\?<?[=!]$/.test(head);
    }
    const alternatives = this.#alternatives();
    if (s[this.#at] !== ')') throw new Error(`unclosed group at ${start}`);
    this.#at++;
    return { start, end: this.#at, min: 1, max: 1, alternatives, zeroWidth };
  }

  /** A quantifier after `last` ('*', '+', '?', '{n}', '{n,}', '{n,m}', then '?' or '+'), applied to it; false if none. */
  #quantifier(last: Piece | undefined): boolean {
    const s = this.source;
    const q = /^(?:[*+?]|\{(\d+)(,(\d*))?\})/.exec(s.slice(this.#at, this.#at + 24));
    if (!q || !last) return false;
    if (q[0] === '*') [last.min, last.max] = [0, Infinity];
    else if (q[0] === '+') [last.min, last.max] = [1, Infinity];
    else if (q[0] === '?') [last.min, last.max] = [0, 1];
    else [last.min, last.max] = [Number(q[1]), q[2] === undefined ? Number(q[1]) : q[3] === '' ? Infinity : Number(q[3])];
    this.#at += q[0].length;
    if (s[this.#at] === '?' || s[this.#at] === '+') this.#at++; // lazy or possessive: the same shape
    last.end = this.#at;
    return true;
  }

  /** '[' … ']', with escapes and nested classes ([a-z&&[^aeiou]]); a ']' first is a literal. */
  #skipClass(): void {
    const s = this.source;
    let depth = 0;
    while (this.#at < s.length) {
      const c = s[this.#at];
      if (c === '\\') {
        this.#at += 2;
        continue;
      }
      if (c === '[') {
        depth++;
        this.#at++;
        if (s[this.#at] === '^') this.#at++;
        if (s[this.#at] === ']') this.#at++;
        continue;
      }
      this.#at++;
      if (c === ']' && --depth === 0) return;
    }
    throw new Error('unclosed character class');
  }

  /** '\' and what it escapes: \p{…}, \x{…}, \xHH, \uHHHH, \k<name>, \cX or one character. */
  #skipEscape(): void {
    const rest = this.source.slice(this.#at, this.#at + 40);
    const m = /^\\(?:[pPx]\{[^}]*\}|[pP][A-Za-z]|x[0-9A-Fa-f]{2}|u\{[0-9A-Fa-f]+\}|u[0-9A-Fa-f]{4}|k<[^>]*>|c[A-Za-z])/.exec(rest);
    if (m) this.#at += m[0].length;
    else if (rest.length >= 2) this.#at += 1 + String.fromCodePoint(rest.codePointAt(1)!).length;
    else throw new Error('a trailing backslash');
  }
}
