import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensorsSync, toFloat32, writeSafetensorsSync, type TensorToWrite } from './safetensors.js';
import { readWeights, weightFormatsIn } from './weights.js';

const fixture = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/models/qa');

test('sharded safetensors and .bin checkpoints read like single files; a broken index is named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nystromformer-shards-'));
  try {
    cpSync(fixture, dir, { recursive: true });
    const whole = readSafetensorsSync(join(dir, 'model.safetensors')).tensors;
    const names = [...whole.keys()].sort();
    const shard = (part: string[]) => Object.fromEntries(part.map((n): [string, TensorToWrite] => [n, { dtype: 'F32', shape: whole.get(n)!.shape, data: toFloat32(whole.get(n)!) }]));
    const half = names.length >> 1;
    writeSafetensorsSync(join(dir, 'model-00001-of-00002.safetensors'), shard(names.slice(0, half)));
    writeSafetensorsSync(join(dir, 'model-00002-of-00002.safetensors'), shard(names.slice(half)));
    const weightMap = Object.fromEntries(names.map((n, i) => [n, i < half ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']));
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    unlinkSync(join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'pytorch_model.bin.index.json'), JSON.stringify({ weight_map: Object.fromEntries(names.map((n) => [n, 'pytorch_model.bin'])) }));
    assert.deepEqual(weightFormatsIn(dir), ['safetensors', 'bin']);
    for (const format of ['safetensors', 'bin'] as const) {
      const { tensors, files } = await readWeights(dir, format);
      assert.equal(files.length, format === 'safetensors' ? 2 : 1);
      for (const n of names) assert.deepEqual(toFloat32(tensors.get(n)!), toFloat32(whole.get(n)!), `${format}: ${n}`);
    }
    // .bin is preferred only when asked; the single .bin file wins over its index
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...weightMap, 'extra.weight': 'model-00001-of-00002.safetensors' } }));
    await assert.rejects(readWeights(dir), /'extra\.weight' should be in model-00001-of-00002\.safetensors, which does not hold it/);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: '../../etc/passwd' } }));
    await assert.rejects(readWeights(dir), /maps to "\.\.\/\.\.\/etc\/passwd", not a file name in the folder/);
    writeFileSync(join(dir, 'model.safetensors.index.json'), '{"weight_map": 3}');
    await assert.rejects(readWeights(dir), /not a valid shard index/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
