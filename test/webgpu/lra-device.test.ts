/**
 * End to end on WebGPU: `nystromformer lra --device webgpu` trains the LRA encoder (Nyström and
 * softmax attention, dropout on) with the losses of the WebAssembly run over 20 seeded steps,
 * within 1e-3 relative.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webgpuBackend } from './backends.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const gpu = await webgpuBackend();

function losses(dir: string, device: string, attention: string): number[] {
  const r = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'lra', '--device', device, '--attention', attention,
    '--steps', '20', '--warmup', '4', '--length', '128', '--train-size', '160', '--eval-size', '16', '--batch-size', '8', '--lr', '1e-3',
    '--out', join(dir, `${device}-${attention}`), '--json'], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(join(dir, `${device}-${attention}`, 'train.jsonl'), 'utf8').trim().split('\n')
    .map((line) => JSON.parse(line)).filter((e) => e.type === 'step').map((e) => e.loss);
}

for (const attention of ['nystrom-16', 'softmax']) {
  test(`lra --device webgpu (${attention}): the WebAssembly losses over 20 steps`, { skip: typeof gpu === 'string' && gpu }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'lra-device-'));
    try {
      const cpu = losses(dir, 'cpu', attention);
      const webgpu = losses(dir, 'webgpu', attention);
      assert.equal(webgpu.length, 20);
      console.log(JSON.stringify({ attention, cpu: cpu.map((l) => +l.toFixed(6)), webgpu: webgpu.map((l) => +l.toFixed(6)) }));
      webgpu.forEach((l, i) => assert.ok(Math.abs(l - cpu[i]) <= 1e-3 * Math.abs(cpu[i]), `step ${i + 1}: webgpu ${l}, cpu ${cpu[i]}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
