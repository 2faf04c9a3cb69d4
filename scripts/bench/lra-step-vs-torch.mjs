// One LRA-encoder training step (nystrom-64), ours against PyTorch, in pairs run back to back that
// alternate which goes first (the machine's speed drifts; a pair shares its drift). One JSON line per
// pair with the ratio, then a summary with the median; `bench gemm` at 1024³ before and after says
// how fast the machine ran. Needs a built checkout and Debian's torch (apt-get install python3-torch).
//
//   node scripts/bench/lra-step-vs-torch.mjs [--pairs 8] [--n 4096] [--batch 32] [--accumulate 1]
//
// --accumulate applies to ours only (batch 32 at n = 16384 needs 4 inside WebAssembly's 4 GiB);
// PyTorch always takes the whole batch at once.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '8' }, n: { type: 'string', default: '4096' },
    batch: { type: 'string', default: '32' }, accumulate: { type: 'string', default: '1' },
  },
});
const { pairs, n, batch, accumulate } = values;
const cli = ['dist/src/cli/main.js'];
const jsonLines = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n').map((l) => JSON.parse(l));
const gemm = () => jsonLines(process.execPath, [...cli, 'bench', 'gemm', '--json']).find((r) => r.impl === 'wasm' && r.m === 1024).gflops;
const ours = () => jsonLines(process.execPath, [...cli, 'bench', 'lra-step', '--json', '--attention', 'nystrom-64', '--n', n,
  '--batch', batch, '--accumulate', accumulate, '--repeats', '2']).at(-1).ms;
const torch = () => jsonLines('/usr/bin/python3', ['scripts/bench/lra_step_torch.py', '--json', '--attention', 'nystrom-64',
  '--n', n, '--batch', batch, '--malloc-tuned', '--threads', '2']).at(-1).ms;

const gemmBefore = gemm();
const ratios = [];
for (let pair = 1; pair <= Number(pairs); pair++) {
  let oursMs, torchMs;
  if (pair % 2) { oursMs = ours(); torchMs = torch(); } else { torchMs = torch(); oursMs = ours(); }
  ratios.push(oursMs / torchMs);
  console.log(JSON.stringify({ bench: 'lra-step-vs-torch', pair, n: Number(n), batch: Number(batch), ours_ms: oursMs,
    torch_ms: torchMs, ratio: Number((oursMs / torchMs).toFixed(3)) }));
}
const sorted = [...ratios].sort((a, b) => a - b);
const mid = sorted.length >> 1;
const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
console.log(JSON.stringify({ bench: 'lra-step-vs-torch', n: Number(n), batch: Number(batch), pairs: ratios.length,
  median_ratio: Number(median.toFixed(3)), min_ratio: Number(sorted[0].toFixed(3)),
  max_ratio: Number(sorted.at(-1).toFixed(3)), gemm_gflops_before: gemmBefore, gemm_gflops_after: gemm() }));
