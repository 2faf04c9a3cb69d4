/** The browser build reaches no Node module: checked on the compiled files a page would load. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Every non-relative specifier statically imported from `entry` on, as 'file → specifier'. */
function externalImports(entry: string): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^'";]*?from\s*'([^']+)'|^\s*import\s*'([^']+)'/gm)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else found.push(`${relative(dist, file)} → ${spec}`);
    }
  };
  visit(resolve(dist, entry));
  assert.ok(seen.size > 30, `only ${seen.size} modules reached from ${entry}`);
  return found;
}

test('web/core.js (module workers load it: no import map there) imports only relative files', () => {
  assert.deepEqual(externalImports('web/core.js'), []);
  assert.deepEqual(externalImports('web/demo-worker.js'), []);
});

test('web/index.js adds only the tokenizer library, which the page maps', () => {
  assert.deepEqual(externalImports('web/index.js'), ['io/tokenizer.js → @huggingface/tokenizers']);
  assert.deepEqual(externalImports('web/demo.js'), ['io/tokenizer.js → @huggingface/tokenizers']);
});
