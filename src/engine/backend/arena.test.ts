import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arena, ArenaOutOfMemoryError } from './arena.js';

const memory = () => new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });

test('arena: aligned, disjoint blocks and exact in-use accounting', () => {
  const arena = new Arena(memory(), 100);
  const sizes = [1, 63, 64, 65, 1000, 4096, 3];
  const ptrs = sizes.map((s) => arena.alloc(s));
  for (const p of ptrs) assert.equal(p % 64, 0, `pointer ${p} not 64-byte aligned`);
  assert.ok(ptrs[0] >= 100, 'allocation below the arena base');
  const spans = ptrs.map((p, i) => [p, p + sizes[i]] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], 'blocks overlap');
  assert.equal(arena.bytesInUse, [64, 64, 64, 128, 1024, 4096, 64].reduce((a, b) => a + b));
  ptrs.forEach((p) => arena.free(p));
  assert.equal(arena.bytesInUse, 0);
});

test('arena: freed neighbours coalesce and are reused best-fit', () => {
  const arena = new Arena(memory(), 0);
  const a = arena.alloc(640);
  const b = arena.alloc(640);
  const c = arena.alloc(640);
  arena.free(a);
  arena.free(b); // a+b now one 1280-byte block
  const big = arena.alloc(1280);
  assert.equal(big, a, 'coalesced block not reused');
  arena.free(c);
  const small = arena.alloc(64);
  assert.equal(small, c, 'best fit should take the freed block, not grow');
});

test('arena: grows the memory on demand, keeps data, tracks the peak', () => {
  const mem = memory();
  const arena = new Arena(mem, 0);
  const p = arena.alloc(1000);
  arena.f32(p, 4).set([1, 2, 3, 4]);
  const before = mem.buffer.byteLength;
  const q = arena.alloc(3 * 65536);
  assert.ok(mem.buffer.byteLength > before, 'memory did not grow');
  assert.deepEqual([...arena.f32(p, 4)], [1, 2, 3, 4]);
  arena.free(q);
  assert.ok(arena.peakBytes >= 1024 + 3 * 65536);
  arena.resetPeak();
  assert.equal(arena.peakBytes, arena.bytesInUse);
});

test('arena: clear errors on double free and exhaustion', () => {
  const arena = new Arena(new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }), 0);
  const p = arena.alloc(64);
  arena.free(p);
  assert.throws(() => arena.free(p), /free of unknown pointer/);
  assert.throws(() => arena.alloc(1 << 30), ArenaOutOfMemoryError);
  assert.equal(arena.bytesInUse, 0, 'a failed allocation must not count');
});
