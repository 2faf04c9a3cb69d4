/**
 * Every code block of README.md and every file in examples/ runs as written, so that a broken example
 * fails here. They run in order, in a fresh folder that has the repository's data folders linked in (as a
 * user's checkout would), so one block can use what an earlier one wrote. Long jobs keep their flags but
 * get a cut budget appended (commander takes an option's last value): `--steps` scaled down, small sizes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { browserTestsSkipped } from './browser/chromium.js';
import { withServe } from './helpers.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(repo, 'bin', 'nystromformer.js');
/** Compiled examples and README blocks live inside the package, so that `import 'nystromformer'` finds it by name. */
const built = join(repo, 'dist', 'readme-blocks');

export interface CodeBlock { lang: string; tags: string[]; line: number; code: string }

/** The fenced blocks of a markdown text, with the line each starts on. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let open: CodeBlock | null = null;
  markdown.split('\n').forEach((text, i) => {
    const fence = /^```(.*)$/.exec(text);
    if (fence && !open) {
      const [lang = '', ...tags] = fence[1].trim().split(/\s+/);
      open = { lang, tags, line: i + 1, code: '' };
    } else if (fence && open) {
      blocks.push(open);
      open = null;
    } else if (open) open.code += text + '\n';
  });
  return blocks;
}

/** A shell block's commands: continuations joined, comments dropped. */
export function shellCommands(code: string): string[] {
  return code
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l !== '');
}

/** Shell words with single and double quotes (all the README needs). */
export function words(command: string): string[] {
  const out: string[] = [];
  for (const m of command.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** A word with `*` in its last path segment, expanded as a shell would (sorted), relative to `cwd`. */
export function expandGlob(word: string, cwd: string): string[] {
  if (!word.includes('*')) return [word];
  const slash = word.lastIndexOf('/');
  const dir = slash < 0 ? '.' : word.slice(0, slash);
  const pattern = new RegExp(`^${word.slice(slash + 1).split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  const found = readdirSync(join(cwd, dir)).filter((n) => pattern.test(n)).sort();
  return found.length > 0 ? found.map((n) => (slash < 0 ? n : `${dir}/${n}`)) : [word];
}

/** Lines not run, and why. */
const NOT_RUN: [RegExp, string][] = [
  [/^npm (ci|test)\b/, 'what CI itself runs'],
  [/^npx tsc\b/, 'compiled by this test itself'],
  [/^(\/usr\/bin\/)?python3\b/, 'needs PyTorch, which the test suite must not'],
];
const USES_NOT_RUN = 'uses what a line not run makes';

/** Budget flags appended per command, so that each example is a seconds-long run of itself. */
const BUDGETS: Record<string, string[]> = {
  train: ['--eval-every', '2', '--train-size', '64', '--eval-size', '16'],
  lra: ['--train-size', '48', '--eval-size', '16', '--length', '128', '--batch-size', '4', '--eval-every', '2'],
  'lra-data': ['--train-size', '48', '--eval-size', '16', '--length', '128'],
  'bench gemm': ['--sizes', '64x64x64', '--seconds', '0.02'],
  'bench attention': ['--n', '256', '--seconds', '0.02', '--max-softmax-n', '256'],
  'bench model': ['--n', '128', '--layers', '1', '--hidden', '32', '--heads', '2', '--repeats', '1'],
  'bench infer': ['--n', '128', '--layers', '1', '--hidden', '32', '--heads', '2', '--repeats', '1'],
  'bench train': ['--n', '128', '--layers', '1', '--hidden', '32', '--heads', '2', '--repeats', '1'],
  'bench lra-step': ['--n', '128', '--repeats', '1'],
  'attention-browser.mjs': ['--n', '256', '--seconds', '0.02'],
};

/** `--steps N` becomes ⌈N / 500⌉ (so a resumed run still goes further than the first); absent, 2. */
function cutSteps(args: string[], command: string): string[] {
  if (command !== 'train' && command !== 'lra') return args;
  const at = args.indexOf('--steps');
  if (at < 0) return [...args, '--steps', '2'];
  const out = [...args];
  out[at + 1] = String(Math.ceil(Number(out[at + 1]) / 500));
  return out;
}

/** Paths that lines not run would have made (after --out or --bench-out). */
const notMade = new Set<string>();

/** A command's leading `NAME=value` words: the environment it runs with. */
function envOf(command: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const word of words(command)) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(word);
    if (!m) break;
    env[m[1]] = m[2];
  }
  return env;
}

/** The node arguments a README command line runs as, or the reason it is not run. */
function nodeArgs(command: string, cwd: string): string[] | string {
  const w = words(command).slice(Object.keys(envOf(command)).length).flatMap((word) => expandGlob(word, cwd));
  for (const [pattern, why] of NOT_RUN) {
    if (!pattern.test(command)) continue;
    w.forEach((word, i) => /^--(bench-)?out$/.test(w[i - 1] ?? '') && notMade.add(word));
    return why;
  }
  if (w.some((word) => notMade.has(word))) return USES_NOT_RUN;
  if (w[0] === 'npx' && w[1] === 'nystromformer') {
    const args = w.slice(2);
    const name = args[0] === 'bench' ? `bench ${args[1]}` : args[0];
    return [cli, ...cutSteps(args, name), ...(BUDGETS[name] ?? [])];
  }
  if (w[0] === 'node') {
    const script = w[1].split('/').pop()!;
    return [...w.slice(1), ...(BUDGETS[script] ?? [])];
  }
  throw new Error(`README: no rule to run '${command}' (add one to test/readme.test.ts)`);
}

function sandbox(): string {
  const dir = join(tmpdir(), `nystromformer-readme-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const name of ['test', 'docs', 'examples', 'scripts', 'web']) symlinkSync(join(repo, name), join(dir, name));
  return dir;
}

function run(args: string[], cwd: string, what: string, env: Record<string, string> = {}): void {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `${what} exited with ${r.status ?? r.signal}:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`);
}

/** `serve` runs until stopped: start it on a free port, fetch the page, stop it. */
function serveOnce(args: string[], cwd: string): Promise<void> {
  return withServe(args, cwd, async (url) => {
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
  });
}

/** Compiles TypeScript files (type-checked, as a user's project would) into `out`; returns nothing, fails on any error. */
function compileTs(files: string[], rootDir: string, out: string): void {
  const config = join(out, 'tsconfig.json');
  mkdirSync(out, { recursive: true });
  writeFileSync(config, JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], strict: true, skipLibCheck: true, rootDir, outDir: out },
    files,
  }));
  const r = spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], { encoding: 'utf8' });
  assert.equal(r.status, 0, `TypeScript errors:\n${r.stdout}${r.stderr}`);
}

const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const blocks = codeBlocks(readme).filter((b) => b.lang !== '');

describe('README and examples run as written', { concurrency: false }, () => {
  const cwd = sandbox();
  const skipped: string[] = [];
  const tsBlocks = blocks.filter((b) => b.lang === 'ts');
  const tsDir = join(built, 'ts');

  test('the README has blocks of every kind', () => {
    assert.ok(blocks.some((b) => b.lang === 'sh') && blocks.some((b) => b.lang === 'js') && tsBlocks.length > 0);
  });

  test('the TypeScript blocks type-check', () => {
    rmSync(built, { recursive: true, force: true });
    mkdirSync(tsDir, { recursive: true });
    const files = tsBlocks.map((b) => {
      const file = join(tsDir, `readme-line-${b.line}.ts`);
      // a module of its own: top-level await, and no clash between blocks' names
      writeFileSync(file, b.code + '\nexport {};\n');
      return file;
    });
    compileTs(files, tsDir, join(tsDir, 'out'));
  });

  for (const block of blocks) {
    const name = `README line ${block.line} (${block.lang})`;
    // Info-string tags say why a block cannot run here; the tests that cover it are named beside it.
    if (block.tags.includes('browser')) {
      test(name, { skip: 'a browser page snippet (test/onnx-web.test.ts runs WebOnnxEncoder in Chromium)' }, () => {});
      continue;
    }
    if (block.tags.includes('network')) {
      test(name, { skip: 'needs the Hugging Face Hub (test/hub*.test.ts run the same against a local Hub)' }, () => {});
      continue;
    }
    if (block.tags.includes('debian')) {
      test(name, { skip: "needs Debian packages CI lacks (manual pages, groff, PyTorch); test/lra-eval.test.ts and lra-tasks.test.ts run the commands' parts" }, () => {});
      continue;
    }
    if (block.lang === 'js' || block.lang === 'ts') {
      test(name, { timeout: 300_000 }, () => {
        const file = block.lang === 'ts' ? join(tsDir, 'out', `readme-line-${block.line}.js`) : join(built, `readme-line-${block.line}.mjs`);
        if (block.lang === 'js') writeFileSync(file, block.code);
        run([file], cwd, name);
      });
    } else if (block.lang === 'sh') {
      for (const command of shellCommands(block.code)) {
        const args = nodeArgs(command, cwd);
        if (typeof args === 'string') {
          skipped.push(`${command}: ${args}`);
          continue;
        }
        const browser = /browser|smoke\.mjs/.test(command) && browserTestsSkipped();
        test(`${name}: ${command}`, { timeout: 300_000, skip: browser || false }, async () => {
          if (words(command)[2] === 'serve') await serveOnce(args, cwd);
          else run(args, cwd, command, envOf(command));
        });
      }
    } else throw new Error(`README line ${block.line}: a '${block.lang}' block, which this test cannot run`);
  }

  test('examples/*.mjs and examples/*.ts run', { timeout: 300_000 }, () => {
    const dir = join(repo, 'examples');
    const names = readdirSync(dir);
    const ts = names.filter((n) => n.endsWith('.ts'));
    compileTs(ts.map((n) => join(dir, n)), dir, join(built, 'examples'));
    for (const n of names.filter((n) => n.endsWith('.mjs'))) run([join(dir, n)], cwd, `examples/${n}`);
    for (const n of ts) run([join(built, 'examples', n.replace(/\.ts$/, '.js'))], cwd, `examples/${n}`);
    assert.ok(ts.length > 0 && names.some((n) => n.endsWith('.mjs')));
  });

  test('only these README lines are not run', () => {
    console.log(`not run:\n  ${skipped.join('\n  ')}`);
    assert.ok(skipped.every((s) => s.endsWith(USES_NOT_RUN) || NOT_RUN.some(([, why]) => s.endsWith(why))));
    rmSync(cwd, { recursive: true, force: true });
  });
});
