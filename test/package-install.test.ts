/**
 * The package as a user gets it: `npm pack`, then installed into an empty project from the tarball with
 * nothing but the npm registry, once as the README says (onnxruntime-node with its CUDA download skipped)
 * and once without the optional onnxruntime-node (what npm leaves where that download fails). In each the
 * library imports and computes, and the command runs, trains its embedded default and serves the demo.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { withServe } from './helpers.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const version = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version as string;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function sh(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 600_000, ...options });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return String(r.stdout);
}

let work = '';
let tarball = '';

before(() => {
  work = mkdtempSync(join(tmpdir(), 'nystromformer-package-'));
  // dist/ is built by `npm test` before the tests run; packing must not rebuild it
  const packed = JSON.parse(sh(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repo }));
  tarball = join(work, packed[0].filename);
});

after(() => rmSync(work, { recursive: true, force: true }));

/** An empty project with the tarball installed; extra npm flags and environment per case. */
function project(name: string, flags: string[], env: Record<string, string> = {}): string {
  const dir = join(work, name);
  sh('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `try-${name}`, private: true, type: 'module' }));
  sh(npm, ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', ...flags], { cwd: dir, env: { ...process.env, ...env } });
  return dir;
}

const USE = `
import { nystromAttention, randn, softmaxAttention, sub, abs, max } from 'nystromformer';
const [q, k, v] = [1, 2, 3].map((s) => randn([1, 2, 512, 32], s, 0, 0.5));
const err = max(abs(sub(nystromAttention(q, k, v, { numLandmarks: 64 }), softmaxAttention(q, k, v)))).item();
console.log(JSON.stringify({ err }));
`;

function checks(dir: string, withOnnxruntime: boolean): void {
  const run = (args: string[]) => sh(process.execPath, [join(dir, 'node_modules', '.bin', 'nystromformer'), ...args], { cwd: dir });
  assert.equal(existsSync(join(dir, 'node_modules', 'onnxruntime-node')), withOnnxruntime);
  writeFileSync(join(dir, 'use.mjs'), USE);
  const { err } = JSON.parse(sh(process.execPath, ['use.mjs'], { cwd: dir }));
  assert.ok(err < 0.05, `Nyström vs exact attention, max difference ${err}`);
  assert.equal(run(['--version']).trim(), version);
  const trained = run(['train', '--steps', '4', '--train-size', '64', '--eval-size', '16', '--json', '--out', 'runs/first']);
  assert.match(trained, /"type":"metrics"/);
  assert.ok(existsSync(join(dir, 'runs', 'first', 'best', 'model.safetensors')));
}

async function servesDemo(dir: string): Promise<void> {
  await withServe([join(dir, 'node_modules', '.bin', 'nystromformer'), 'serve'], dir, async (url) => {
    for (const path of ['', 'models/tiny-mlm/config.json']) assert.equal((await fetch(url + path)).status, 200, path);
  });
}

describe('the packed package installs and runs in an empty project', { concurrency: false, timeout: 900_000 }, () => {
  test('as the README says: onnxruntime-node without its CUDA download', async () => {
    const dir = project('with-ort', [], { ONNXRUNTIME_NODE_INSTALL: 'skip' });
    checks(dir, true);
    await servesDemo(dir);
  });

  test('without onnxruntime-node: the WebAssembly path, and a clear error for --runtime onnx', () => {
    const dir = project('without-ort', ['--omit=optional']);
    checks(dir, false);
    const r = spawnSync(process.execPath, [join(dir, 'node_modules', '.bin', 'nystromformer'), 'export', '--help'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0);
    writeFileSync(join(dir, 'onnx.mjs'), `import { SyncOnnxSession } from 'nystromformer';\ntry { SyncOnnxSession.create(new Uint8Array(8)); } catch (e) { console.log(e.message); }`);
    assert.match(sh(process.execPath, ['onnx.mjs'], { cwd: dir }), /onnxruntime-node is not installed: `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node`/);
  });
});
