/**
 * The machine-readable lines of docs/formats.md, checked on the commands themselves with tiny
 * settings: every stdout line parses, and carries the documented fields with the documented
 * types and values. Scripts (lra-report, plots, the README's tables) read these names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the CLI, expects the given exit status, and parses every stdout line. */
function lines(args: string[], status = 0): Record<string, unknown>[] {
  const r = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), ...args, '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, status, r.stderr);
  const out = r.stdout.trim().split('\n');
  assert.ok(out.length > 0 && out[0] !== '', `no output from ${args.join(' ')}`);
  return out.map((l) => JSON.parse(l) as Record<string, unknown>);
}

type Check = 'number' | 'string' | 'object' | readonly unknown[];

/** Each field present with its type, or one of the listed values. */
function shape(line: Record<string, unknown>, fields: Record<string, Check>): void {
  for (const [name, check] of Object.entries(fields)) {
    const value = line[name];
    if (Array.isArray(check)) assert.ok(check.includes(value), `${name} = ${JSON.stringify(value)} is not one of ${check.join(', ')}`);
    else assert.equal(typeof value, check, `${name} in ${JSON.stringify(line)}`);
    if (check === 'number') assert.ok(Number.isFinite(value), `${name} = ${value} is not finite`);
    if (check === 'object') assert.ok(value !== null && !Array.isArray(value), `${name} is not an object`);
  }
}

const errorsBelow = (errors: unknown) => {
  assert.ok(Object.keys(errors as object).length > 0);
  for (const [k, e] of Object.entries(errors as Record<string, unknown>)) assert.ok(typeof e === 'number' && e >= 0, `${k} = ${e}`);
};

test('a reader that stops early (`| head -1`) ends the command quietly: exit 0, nothing on stderr', () => {
  // head exits after the first line; the lines after it meet a closed pipe (EPIPE)
  const cmd = `set -o pipefail; "${process.execPath}" bin/nystromformer.js bench gemm --json --impl wasm --threads 2 `
    + '--sizes 64x32x48,64x32x48,64x32x48,64x32x48 --seconds 0.3 | head -1';
  const r = spawnSync('bash', ['-c', cmd], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal((JSON.parse(r.stdout) as { bench: string }).bench, 'gemm');
});

test('bench gemm: {"bench":"gemm","impl":"wasm"|"native","threads":T,"m":M,"k":K,"n":N,"gflops":G}', () => {
  const out = lines(['bench', 'gemm', '--sizes', '64x32x48', '--seconds', '0.05', '--threads', '1']);
  assert.ok(out.some((l) => l.impl === 'wasm'), 'the WebAssembly line is always there');
  for (const l of out) {
    shape(l, { bench: ['gemm'], impl: ['wasm', 'native'], threads: [1], m: [64], k: [32], n: [48], gflops: 'number' });
    assert.ok((l.gflops as number) > 0);
  }
});

test('bench attention: {"bench":"attention","impl":"nystrom"|"softmax","n":N,"pass":"fwd"|"fwdbwd","ms":T,"peak_mb":P}', () => {
  const out = lines(['bench', 'attention', '--n', '64', '--heads', '2', '--dim', '8', '--landmarks', '8', '--conv', '3', '--backward', '--seconds', '0.05', '--threads', '1']);
  assert.deepEqual(out.map((l) => `${l.impl} ${l.pass}`), ['nystrom fwd', 'nystrom fwdbwd', 'softmax fwd', 'softmax fwdbwd']);
  for (const l of out) {
    shape(l, { bench: ['attention'], impl: ['nystrom', 'softmax'], n: [64], pass: ['fwd', 'fwdbwd'], ms: 'number', peak_mb: 'number' });
    assert.ok((l.ms as number) >= 0 && (l.peak_mb as number) >= 0);
  }
});

test('bench lra-step --profile: a step-profile line per kernel, the most time first, shares adding up to 1', () => {
  const out = lines(['bench', 'lra-step', '--n', '128', '--attention', 'nystrom-16', '--batch', '2', '--profile']);
  assert.equal(out[0].bench, 'lra-step');
  const profile = out.slice(1);
  for (const l of profile) {
    shape(l, { bench: ['step-profile'], attention: ['nystrom-16'], n: [128], batch: [2], kernel: 'string', calls: 'number', ms: 'number', share: 'number' });
  }
  const kernels = profile.map((l) => l.kernel as string);
  assert.equal(kernels.at(-1), '(outside kernels)');
  // a training step runs the update, the conv's backward, GELU with its slope, an op named by its code and a shaped product
  for (const k of ['adamw', 'dwconvGradWeight', 'geluWithGrad', 'binary(mul)']) assert.ok(kernels.includes(k), `${k} in ${kernels.join(', ')}`);
  assert.ok(kernels.some((k) => /^gemm \d+×\d+×\d+×\d+$/.test(k)), 'GEMM lines carry their shape');
  for (const l of profile) {
    // products carry their rate, 2·batch·m·k·n over their time; nothing else does
    const dims = /^gemm (\d+)×(\d+)×(\d+)×(\d+)$/.exec(l.kernel as string);
    if (!dims) { assert.equal(l.gflops, undefined, `${l.kernel} has no rate`); continue; }
    const flops = 2 * (l.calls as number) * dims.slice(1).reduce((p, d) => p * Number(d), 1);
    const ms = l.ms as number, gflops = l.gflops as number; // ms rounded to 0.01, the rate to 0.1
    assert.ok(Math.abs(gflops - flops / ms / 1e6) <= gflops * (0.01 + 0.005 / ms) + 0.1, `${l.kernel}: ${gflops} GFLOP/s`);
  }
  const ms = profile.slice(0, -1).map((l) => l.ms as number);
  assert.deepEqual(ms, [...ms].sort((a, b) => b - a), 'the most time first');
  const total = profile.reduce((sum, l) => sum + (l.share as number), 0);
  assert.ok(Math.abs(total - 1) < 0.01, `shares add up to ${total}`);
});

test('bench lra-step --accumulate: the batch in micro-batches, one update; a batch it does not divide is refused', () => {
  const [line] = lines(['bench', 'lra-step', '--n', '64', '--attention', 'softmax', '--batch', '4', '--accumulate', '2']);
  shape(line, { bench: ['lra-step'], n: [64], batch: [4], accumulate: [2], ms: 'number', peak_mb: 'number' });
  const r = spawnSync(process.execPath, [join(repo, 'bin/nystromformer.js'), 'bench', 'lra-step', '--n', '64', '--batch', '3', '--accumulate', '2'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--batch 3 is not a multiple of --accumulate 2/);
});

test('verify-attention: {"case":NAME,"max_rel_err":{"out":…,"dq":…,"dk":…,"dv":…[,"dconv_w":…]},"ok":true|false}', () => {
  const dir = join(repo, 'test/fixtures/attention');
  const out = lines(['verify-attention', dir]);
  assert.equal(out.length, readdirSync(dir).filter((f) => f.endsWith('.safetensors')).length, 'one line per fixture');
  for (const l of out) {
    shape(l, { case: 'string', max_rel_err: 'object', ok: [true] });
    const errs = l.max_rel_err as Record<string, unknown>;
    for (const g of ['out', 'dq', 'dk', 'dv']) assert.equal(typeof errs[g], 'number', `${l.case}: ${g}`);
    errorsBelow(errs);
  }
});

test('verify-model: {"model":DIR,"weights":"safetensors"|"bin","max_abs_err":{…},"ok":…} per weight format', () => {
  const dir = join(repo, 'test/fixtures/models/qa');
  const out = lines(['verify-model', dir]);
  assert.deepEqual(out.map((l) => l.weights), ['safetensors', 'bin']);
  for (const l of out) {
    shape(l, { model: [dir], weights: ['safetensors', 'bin'], max_abs_err: 'object', ok: [true] });
    errorsBelow(l.max_abs_err);
  }
});
