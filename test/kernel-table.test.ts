/**
 * The kernel table (src/engine/backend/kernel-table.ts) against the AssemblyScript kernels: the
 * compiled module exports exactly the table's kernels and helpers, and every kernel's source
 * signature takes (tid, nt) and then the table's arguments, by name, in order, with pointer
 * (usize) parameters exactly where the table has buffers or scratch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { argKind, HELPERS, KERNELS, type KernelName } from '../src/engine/backend/kernel-table.js';
import { kernelConstant, OP_TABLES } from '../src/engine/backend/op-codes.js';
import { GPU_KERNELS } from '../src/engine/backend/webgpu/kernels/index.js';

const kernelsDir = new URL('../../src/engine/kernels/', import.meta.url);
const wasm = new URL('../kernels/simd.wasm', import.meta.url);

interface Param { name: string; type: string }

/** `export function name(a: T, …)` signatures of the AssemblyScript sources. */
function signatures(): Map<string, Param[]> {
  const found = new Map<string, Param[]>();
  for (const file of readdirSync(kernelsDir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(new URL(file, kernelsDir), 'utf8');
    for (const m of text.matchAll(/^export function (\w+)\(([^)]*)\)/gm)) {
      const params = m[2].split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
        const [name, type] = p.split(':').map((s) => s.trim());
        return { name, type };
      });
      found.set(m[1], params);
    }
  }
  return found;
}

/** The parameters a kernel's table entry implies after (tid, nt). */
function expected(kernel: KernelName): Param[] {
  const specs: readonly string[] = KERNELS[kernel];
  return specs.flatMap((spec) => {
    const name = spec.replace(/[*?#[\]]+$/, '');
    switch (argKind(spec)) {
      case 'scratch': return [{ name, type: 'usize' }, { name: '', type: 'i32' }];
      case 'number': return [{ name, type: 'number' }];
      default: return [{ name, type: 'usize' }];
    }
  });
}

test('the compiled kernels export exactly the table: its kernels and its helpers', () => {
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(wasm)))
    .filter((e) => e.kind === 'function')
    .map((e) => e.name)
    .sort();
  assert.deepEqual(exports, [...Object.keys(KERNELS), ...Object.keys(HELPERS)].sort());
});

test('every kernel takes (tid, nt) and then the table arguments, by name and pointer-ness', () => {
  const sigs = signatures();
  for (const kernel of Object.keys(KERNELS) as KernelName[]) {
    const params = sigs.get(kernel);
    assert.ok(params, `no 'export function ${kernel}' in src/engine/kernels`);
    assert.deepEqual(params.slice(0, 2).map((p) => p.name), ['tid', 'nt'], kernel);
    const want = expected(kernel);
    const got = params.slice(2);
    assert.equal(got.length, want.length, `${kernel}: ${got.length} parameters after (tid, nt), the table has ${want.length}`);
    got.forEach((p, i) => {
      const w = want[i];
      if (w.name) assert.equal(p.name, w.name, `${kernel} parameter ${i + 2}`);
      if (w.type === 'number') assert.ok(['i32', 'u32', 'f32', 'f64'].includes(p.type), `${kernel}.${p.name}: ${p.type} is not a scalar`); // u32: a JS number in [0, 2³²) reaches it as its bit pattern
      else assert.equal(p.type, w.type, `${kernel}.${p.name}`);
    });
  }
  for (const [helper, arity] of Object.entries(HELPERS)) assert.equal(sigs.get(helper)?.length, arity, helper);
});

test('op codes are 0, 1, 2, … in each table, so the kernels can switch on them', () => {
  for (const table of Object.values(OP_TABLES)) {
    assert.deepEqual(Object.values(table), Object.values(table).map((_, i) => i));
  }
});

test('the AssemblyScript op-code constants are generated from the TypeScript table', () => {
  const text = readFileSync(new URL('op-codes.ts', kernelsDir), 'utf8');
  const constants = new Map([...text.matchAll(/export const (\w+): i32 = (\d+);/g)].map((m) => [m[1], Number(m[2])]));
  for (const [prefix, table] of Object.entries(OP_TABLES) as [keyof typeof OP_TABLES, Record<string, number>][]) {
    for (const [name, code] of Object.entries(table)) assert.equal(constants.get(kernelConstant(prefix, name)), code, `${prefix} ${name}`);
  }
});

test('every kernel of the table has a WGSL twin, and the WGSL table has no other entry', () => {
  assert.deepEqual(Object.keys(GPU_KERNELS).sort(), Object.keys(KERNELS).sort());
});
