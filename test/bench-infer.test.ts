/**
 * `nystromformer bench infer`: one JSON line per runtime and length, and every runtime computes the
 * same output (its checksum, and the max abs difference the bench reports). Against PyTorch too
 * (scripts/bench/infer_torch.py) where Debian's torch is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const TINY = ['--layers', '2', '--hidden', '32', '--heads', '2', '--landmarks', '8', '--repeats', '2'];

interface InferLine {
  bench: string; runtime: string; attention: string; landmarks: number | null; layers: number; hidden: number; heads: number;
  n: number; ms: number; threads: number; checksum: number;
  peak_mb?: number; call_ms?: number; export_ms?: number; session_ms?: number; onnx_mb?: number; max_abs_diff_vs_engine?: number;
  dtype?: string; max_abs_diff_vs_engine_fp32?: number;
}

function benchInfer(args: string[]): InferLine[] {
  const r = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'bench', 'infer', '--json', ...args], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as InferLine);
}

const closeRel = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

test('bench infer: engine and onnx lines per length, with the same outputs', () => {
  const lines = benchInfer([...TINY, '--n', '128,200', '--runtime', 'engine,onnx']); // 200: uneven landmark segments
  assert.deepEqual(lines.map((l) => `${l.runtime}/${l.n}`), ['engine/128', 'engine/200', 'onnx/128', 'onnx/200']);
  for (const l of lines) {
    assert.equal(l.bench, 'infer');
    assert.equal(l.attention, 'nystrom');
    assert.deepEqual([l.landmarks, l.layers, l.hidden, l.heads], [8, 2, 32, 2]);
    assert.ok(Number.isFinite(l.ms) && l.ms > 0, `ms ${l.ms}`);
    assert.ok(Number.isInteger(l.threads) && l.threads > 0);
    assert.ok(Number.isFinite(l.checksum) && l.checksum !== 0);
    if (l.runtime === 'engine') assert.ok(l.peak_mb! > 0);
    else {
      assert.ok(l.call_ms! >= l.ms, `call_ms ${l.call_ms} < ms ${l.ms}`);
      assert.ok(l.export_ms! >= 0 && l.session_ms! > 0 && l.onnx_mb! > 0);
      assert.ok(l.max_abs_diff_vs_engine! <= 1e-4, `max abs diff ${l.max_abs_diff_vs_engine}`);
    }
  }
  for (const n of [128, 200]) {
    const [engine, onnx] = ['engine', 'onnx'].map((rt) => lines.find((l) => l.runtime === rt && l.n === n)!);
    assert.ok(closeRel(engine.checksum, onnx.checksum, 1e-4), `n=${n}: checksums ${engine.checksum} vs ${onnx.checksum}`);
  }
});

test('bench infer --dtype fp32,q8: fp32 lines first, then q8 ones measured against them', () => {
  const lines = benchInfer([...TINY, '--hidden', '64', '--n', '128', '--runtime', 'engine,onnx', '--dtype', 'q8,fp32']);
  assert.deepEqual(lines.map((l) => `${l.runtime}/${l.dtype}`), ['engine/fp32', 'onnx/fp32', 'engine/q8', 'onnx/q8']);
  const [engine, onnx, engineQ8, onnxQ8] = lines;
  assert.ok(onnx.max_abs_diff_vs_engine! <= 1e-4);
  // 8 bits against float32: visible, and small against the hidden states' scale (LayerNorm: about 1)
  for (const l of [engineQ8, onnxQ8]) assert.ok(l.max_abs_diff_vs_engine_fp32! > 1e-4 && l.max_abs_diff_vs_engine_fp32! < 0.5, `${l.runtime}: ${l.max_abs_diff_vs_engine_fp32}`);
  assert.ok(!closeRel(engine.checksum, engineQ8.checksum, 1e-6));
  const bad = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'bench', 'infer', '--dtype', 'int4', '--n', '16'], { encoding: 'utf8' });
  assert.match(bad.stderr, /unknown dtype 'int4' \(fp32, q8\)/);
});

test('bench infer: bad runtime names are refused', () => {
  const r = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'bench', 'infer', '--runtime', 'engine,tpu', '--n', '16'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown runtime 'tpu'/);
});

const torchAvailable = existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import torch'], { timeout: 60_000 }).status === 0;

test('bench infer and scripts/bench/infer_torch.py: the same model gives the same checksum', { skip: !torchAvailable && 'no /usr/bin/python3 with torch' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-infer-'));
  try {
    const r = spawnSync('/usr/bin/python3', [join(repo, 'scripts/bench/infer_torch.py'), '--json', '--layers', '2', '--hidden', '32', '--heads', '2',
      '--landmarks', '8', '--repeats', '1', '--threads', '1', '--n', '200', '--save', dir], { encoding: 'utf8', timeout: 180_000 });
    assert.equal(r.status, 0, r.stderr);
    const torch = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as InferLine;
    assert.deepEqual([torch.bench, torch.runtime, torch.n, torch.landmarks, torch.layers], ['infer', 'pytorch', 200, 8, 2]);
    assert.ok(torch.ms > 0);
    for (const l of benchInfer(['--model', dir, '--landmarks', '8', '--repeats', '1', '--n', '200'])) {
      assert.ok(closeRel(l.checksum, torch.checksum, 1e-4), `${l.runtime}: checksum ${l.checksum} vs PyTorch ${torch.checksum}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
