import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePathfinder, readPathfinder, writePathfinder } from './pathfinder.js';
import { encodeGrayPng } from '../io/png.js';

/** The 3×3 blocks of full white (the endpoint dots), by centre; curves are drawn dimmer. */
function dots(pixels: Uint8Array, size: number): number[] {
  const centres: number[] = [];
  for (let y = 1; y < size - 1; y++)
    for (let x = 1; x < size - 1; x++) {
      let full = true;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) full &&= pixels[(y + dy) * size + x + dx] === 255;
      if (full) centres.push(y * size + x);
    }
  return centres;
}

test('generator: seeded, balanced, two dots, curves inside the image', () => {
  const a = generatePathfinder({ count: 400, seed: 5 });
  assert.deepEqual(a, generatePathfinder({ count: 400, seed: 5 }));
  assert.notDeepEqual(a.slice(0, 5), generatePathfinder({ count: 5, seed: 6 }));
  const ones = a.filter((e) => e.label === 1).length;
  assert.ok(ones > 160 && ones < 240, `${ones} of 400 labelled 1`);
  for (const { pixels, label } of a) {
    assert.equal(pixels.length, 1024);
    assert.ok(label === 0 || label === 1);
    assert.ok(pixels.every((v) => v === 0 || v === 191 || v === 255), 'background, dash or dot');
    assert.equal(dots(pixels, 32).length, 2, 'two endpoint dots');
    assert.equal(pixels.filter((v) => v === 255).length, 18, 'the dots do not touch');
    for (let i = 0; i < 32; i++) for (const at of [i, 31 * 32 + i, i * 32, i * 32 + 31]) assert.equal(pixels[at], 0, 'the border stays empty');
    assert.ok(pixels.filter((v) => v === 191).length >= 20, 'dashed curves drawn');
  }
  const big = generatePathfinder({ count: 20, seed: 1, size: 64, dashes: 14, distractors: 4 });
  assert.ok(big.every((e) => e.pixels.length === 64 * 64 && dots(e.pixels, 64).length === 2));
});

test('write → read: the official layout, batches of 1000, the same pixels and labels', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pathfinder-'));
  try {
    const examples = generatePathfinder({ count: 1003, seed: 9 });
    writePathfinder(root, examples);
    const meta0 = readFileSync(join(root, 'curv_baseline', 'metadata', '0.npy'), 'utf8').split('\n');
    assert.equal(meta0.length, 1001, '1000 lines and a final newline');
    assert.match(meta0[0], new RegExp(`^imgs/0 sample_0\\.png 0 ${examples[0].label} 1\\.0 6 2 2 0\\.5 1 1$`));
    assert.match(readFileSync(join(root, 'curv_baseline', 'metadata', '1.npy'), 'utf8'), /^imgs\/1 sample_0\.png 0 [01] /);
    const read = await readPathfinder(root);
    assert.equal(read.length, 1003);
    read.forEach((r, i) => {
      assert.deepEqual(r.inputIds, Array.from(examples[i].pixels), `example ${i}`);
      assert.equal(r.label, examples[i].label);
    });
    assert.equal((await readPathfinder(root, 'curv_baseline', 10)).length, 10);
    assert.throws(() => writePathfinder(root, examples.slice(0, 5)), /metadata of an earlier write \(1\.npy\)/);
    writePathfinder(root, examples.slice(0, 4), 'curv_contour_length_14');
    assert.match(readFileSync(join(root, 'curv_contour_length_14', 'metadata', '0.npy'), 'utf8'), / 1\.0 14 4 2 0\.5 1 1\n/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('bad metadata and images: errors name the metadata file and line', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pathfinder-'));
  const dir = join(root, 'curv_baseline');
  const meta = join(dir, 'metadata', '0.npy');
  const escaped = meta.replace(/[.\\]/g, '\\$&');
  try {
    writePathfinder(root, generatePathfinder({ count: 3, seed: 1 }));
    const good = readFileSync(meta, 'utf8');
    writeFileSync(meta, `\n${good}\r\n\n`); // blank lines and CRLF are fine
    assert.equal((await readPathfinder(root)).length, 3);
    writeFileSync(meta, good.replace('sample_1.png 1', 'sample_1.png'));
    await assert.rejects(readPathfinder(root), (e: Error) => e.message.startsWith(`${meta}:2: label must be 0 or 1`));
    writeFileSync(meta, `${good}imgs/0 sample_3.png\n`);
    await assert.rejects(readPathfinder(root), new RegExp(`^Error: ${escaped}:4: malformed metadata line`));
    writeFileSync(meta, good);
    unlinkSync(join(dir, 'imgs', '0', 'sample_2.png'));
    await assert.rejects(readPathfinder(root), new RegExp(`^Error: ${escaped}:3: image .*sample_2\\.png not found`));
    writeFileSync(join(dir, 'imgs', '0', 'sample_2.png'), encodeGrayPng(new Uint8Array(16 * 16), 16, 16));
    await assert.rejects(readPathfinder(root), new RegExp(`${escaped}:3: .*sample_2\\.png is 16×16, expected 32×32`));
    writeFileSync(join(dir, 'imgs', '0', 'sample_2.png'), encodeGrayPng(new Uint8Array(32 * 32), 32, 32).subarray(0, 50));
    await assert.rejects(readPathfinder(root), new RegExp(`${escaped}:3: .*sample_2\\.png: truncated`));
    await assert.rejects(readPathfinder(join(root, 'nowhere')), /metadata: cannot read the metadata folder/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
