#!/usr/bin/env node
/**
 * A real long-document, two-class task from the manual pages Debian ships (no download), in the aclImdb
 * layout that `nystromformer lra --task text --data DIR` reads as bytes:
 *
 *   DIR/{train,test}/pos/*.txt   section 1: user commands          (label 1)
 *   DIR/{train,test}/neg/*.txt   sections 2 and 3: system calls and library functions (C APIs: libc, X11, …)   (label 0)
 *   DIR/manifest.tsv             split, class, source page, bytes, sha256 of each file written
 *   DIR/README.txt               how it was made (settings and counts)
 *
 * Each document is a page rendered to plain text by groff, from its DESCRIPTION section on: the header and
 * footer lines (which name the section, "(1)" or "(3)") and NAME, LIBRARY and SYNOPSIS (where
 * "Standard C library" and "#include" give the class away in a few bytes) are left out, so the class has
 * to be read from the prose. Whitespace runs are collapsed; the first --bytes (4096) bytes are kept, and
 * pages shorter than --min-bytes (2048) after that are skipped. Classes are balanced: --per-class pages
 * each (500), or as many as sections 2/3 have; a fifth of each class is the test split.
 *
 * Deterministic: candidates are the regular, non-`.so` files `man1/*.1.gz` and `man2/*.2.gz`,
 * `man3/*.3.gz` (C APIs, not Perl's .3pm), ordered by a seeded hash of their name (FNV-1a of
 * "seed:name"), so the same installed pages and seed give the same files; installing a package changes
 * only the pages whose hash ranks among those chosen. manifest.tsv records what was chosen.
 *
 * Needs the Debian packages groff-base (groff), manpages and manpages-dev (sections 2 and 3), which
 * bookworm's man-db pulls in; section 1 is whatever the installed packages bring:
 *   apt-get install -y groff-base manpages manpages-dev
 * Run from the repository root (about a minute on 2 cores):
 *   node scripts/lra/make_long_text.mjs --out runs/mantext [--per-class 500] [--seed 1] [--bytes 4096] [--min-bytes 2048] [--man /usr/share/man]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const USAGE = 'usage: node scripts/lra/make_long_text.mjs --out DIR [--per-class N] [--seed S] [--bytes B] [--min-bytes M] [--man /usr/share/man]';

function parseArgs(argv) {
  const o = { out: undefined, perClass: 500, seed: 1, bytes: 4096, minBytes: 2048, man: '/usr/share/man' };
  const numeric = { '--per-class': 'perClass', '--seed': 'seed', '--bytes': 'bytes', '--min-bytes': 'minBytes' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag}: missing value\n${USAGE}`);
    if (flag === '--out') o.out = value;
    else if (flag === '--man') o.man = value;
    else if (Object.hasOwn(numeric, flag)) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < (flag === '--seed' ? 0 : 1)) throw new Error(`${flag} must be a ${flag === '--seed' ? 'non-negative' : 'positive'} integer, got '${value}'`);
      o[numeric[flag]] = n;
    } else throw new Error(`unknown flag '${flag}'\n${USAGE}`);
  }
  if (!o.out) throw new Error(`--out DIR is required\n${USAGE}`);
  if (o.minBytes > o.bytes) throw new Error(`--min-bytes ${o.minBytes} is more than --bytes ${o.bytes}`);
  return o;
}

/** 32-bit FNV-1a of a string's UTF-8 bytes: a stable, seedable order that no locale or Node version changes. */
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** Regular `.gz` pages of section folders, [folder, name pattern] pairs, in seeded-hash order of their names (ties by path). */
function candidates(sections, seed) {
  const paths = sections.flatMap(([dir, pattern]) => {
    if (!existsSync(dir)) throw new Error(`${dir}: no such folder (install the manual pages: apt-get install -y manpages manpages-dev)`);
    return readdirSync(dir).filter((n) => pattern.test(n) && lstatSync(join(dir, n)).isFile()).map((n) => join(dir, n));
  });
  const key = new Map(paths.map((p) => [p, fnv1a(`${seed}:${p.split('/').pop()}`)]));
  return paths.sort((a, b) => key.get(a) - key.get(b) || (a < b ? -1 : 1));
}

/** A page's plain text from DESCRIPTION on, whitespace collapsed; null for `.so` links and pages without DESCRIPTION. */
function render(path) {
  const source = gunzipSync(readFileSync(path));
  if (/^\.so\s/.test(source.subarray(0, 8).toString('latin1'))) return null; // an alias of another page
  let text;
  try {
    // -P-cbou: plain characters, no SGR colours, no overstrike bold/underline; HY=0: no hyphenation
    text = execFileSync('groff', ['-man', '-Tutf8', '-rHY=0', '-P-cbou'], { input: source, env: { ...process.env, GROFF_NO_SGR: '1' }, stdio: ['pipe', 'pipe', 'ignore'], maxBuffer: 1 << 26 }).toString('utf8');
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error('groff not found: apt-get install -y groff-base');
    return null; // a page groff cannot render is skipped
  }
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^DESCRIPTION\s*$/.test(l));
  if (start < 0) return null;
  let end = lines.length;
  while (end > start && lines[end - 1].trim() === '') end--;
  end--; // the footer line (source, date, page name with its section)
  return lines.slice(start + 1, end).map((l) => l.replace(/[ \t]+/g, ' ').trim()).join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** The first `bytes` bytes of the text, cut back to a whole UTF-8 character. */
function head(text, bytes) {
  const b = Buffer.from(text, 'utf8');
  if (b.length <= bytes) return b;
  let end = bytes;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // never split a multi-byte character
  return b.subarray(0, end);
}

/** Up to `count` documents from candidate pages, in their order. */
function collect(paths, count, o, label) {
  const docs = [];
  for (const path of paths) {
    if (docs.length === count) break;
    const text = render(path);
    if (text === null) continue;
    const body = head(text, o.bytes);
    if (body.length < o.minBytes) continue;
    docs.push({ path, name: path.split('/').pop().replace(/\.gz$/, ''), body });
    if (docs.length % 100 === 0) console.error(`${label}: ${docs.length} of ${count} pages`);
  }
  return docs;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const library = candidates([[join(o.man, 'man2'), /\.2\.gz$/], [join(o.man, 'man3'), /\.3\.gz$/]], o.seed);
  const neg = collect(library, o.perClass, o, 'sections 2/3');
  const pos = collect(candidates([[join(o.man, 'man1'), /\.1\.gz$/]], o.seed), neg.length, o, 'section 1');
  if (neg.length < 10 || pos.length < neg.length) throw new Error(`too few pages: ${neg.length} from sections 2/3, ${pos.length} from section 1 (install manpages, manpages-dev)`);
  for (const split of ['train', 'test']) rmSync(join(o.out, split), { recursive: true, force: true });
  const manifest = ['split\tclass\tsource\tbytes\tsha256'];
  for (const [cls, docs] of [['neg', neg], ['pos', pos]]) {
    const testCount = Math.floor(docs.length / 5);
    docs.forEach((d, i) => {
      const split = i < testCount ? 'test' : 'train';
      const dir = join(o.out, split, cls);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${d.name}.txt`), d.body);
      manifest.push(`${split}\t${cls}\t${d.path}\t${d.body.length}\t${createHash('sha256').update(d.body).digest('hex')}`);
    });
  }
  writeFileSync(join(o.out, 'manifest.tsv'), manifest.join('\n') + '\n');
  const testPer = Math.floor(neg.length / 5);
  const summary = `Manual pages as a two-class long-text task (scripts/lra/make_long_text.mjs): pos = section 1 (user commands), neg = sections 2/3 (system calls, library functions);
text from DESCRIPTION on, first ${o.bytes} bytes, pages under ${o.minBytes} bytes skipped; seed ${o.seed}; ${o.man}.
${neg.length} pages a class: train ${neg.length - testPer} + ${pos.length - testPer}, test ${testPer} + ${testPer} (balanced: majority 50%).
`;
  writeFileSync(join(o.out, 'README.txt'), summary);
  console.error(summary.trimEnd());
}

try {
  main();
} catch (e) {
  console.error(`make_long_text: ${e.message}`);
  process.exit(1);
}
