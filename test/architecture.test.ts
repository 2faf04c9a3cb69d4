/** The layering of the README (Layout), after the design, checked on the sources: no upward imports, no import cycles. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
// The design's order, except that io (file formats only: safetensors, PyTorch pickles, tokenizers)
// sits under nn and models, so that a model can load and save itself (fromPretrained, save).
const LAYERS = ['engine', 'attention', 'io', 'nn', 'models', 'data', 'train', 'runtime', 'cli', 'web'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return path.endsWith(join('engine', 'kernels')) ? [] : sources(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

/** Imports, type-only ones included: a type cycle still ties the files' designs together. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(?:type\s+)?[^'";]*?from\s+'(\.[^']+)'/gm)) {
    found.push(resolve(dirname(file), m[2].replace(/\.js$/, '.ts')));
  }
  return found;
}

const layerOf = (file: string) => {
  const top = relative(root, file).split('/')[0];
  return LAYERS.indexOf(top);
};

const files = sources(root);
const graph = new Map(files.map((f) => [f, imports(f)]));

test('sources were found', () => {
  assert.ok(files.length > 20, `only ${files.length} source files under ${root}`);
});

test('no layer imports a higher one', () => {
  const upward: string[] = [];
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      if (layerOf(file) >= 0 && layerOf(dep) > layerOf(file)) upward.push(`${relative(root, file)} → ${relative(root, dep)}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('no import cycles', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(root, p)).join(' → '));
      return;
    }
    state.set(f, 'open');
    for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  assert.deepEqual(cycles, []);
});
