/** The `nystromformer` command. */
import { Command, InvalidArgumentError } from 'commander';
import { benchAttention } from './bench-attention.js';
import { benchGemm } from './bench-gemm.js';
import { verifyAttentionDir } from './verify-attention.js';

const program = new Command()
  .name('nystromformer')
  .description('Nyströmformer in TypeScript: efficient-attention transformers for Node.js and browsers')
  .showHelpAfterError();

const bench = program.command('bench').description('benchmarks that print JSON lines with --json');

bench
  .command('gemm')
  .description('matrix-product throughput, WebAssembly vs native (onnxruntime), in GFLOP/s')
  .option('--json', 'one JSON object per line')
  .option('--threads <n>', 'kernel threads (default: available cores)', positiveInt)
  .option('--sizes <list>', 'comma-separated MxKxN products', '1024x1024x1024,4096x768x3072')
  .option('--impl <list>', 'comma-separated implementations: wasm,native', 'wasm,native')
  .option('--seconds <s>', 'minimum timing per measurement', Number, 2)
  .action(benchGemm);

bench
  .command('attention')
  .description('time and working memory of Nyström vs exact softmax attention as n grows')
  .option('--json', 'one JSON object per line')
  .option('--n <list>', 'comma-separated sequence lengths', '512,1024,2048,4096,8192,16384,32768,65536')
  .option('--batch <b>', 'batch size', positiveInt, 1)
  .option('--heads <h>', 'attention heads', positiveInt, 12)
  .option('--dim <d>', 'head size', positiveInt, 64)
  .option('--landmarks <m>', 'Nyström landmarks', positiveInt, 64)
  .option('--conv <k>', 'Nyström conv kernel size on V (0 = none)', Number, 33)
  .option('--backward', 'also time forward+backward')
  .option('--impl <list>', 'comma-separated: nystrom,softmax', 'nystrom,softmax')
  .option('--threads <n>', 'kernel threads (default: available cores)', positiveInt)
  .option('--seconds <s>', 'minimum timing per measurement', Number, 1)
  .option('--max-softmax-n <n>', 'skip exact attention above this length', positiveInt, 16384)
  .action(benchAttention);

program
  .command('verify-attention')
  .description('check Nyström and softmax attention against PyTorch fixtures (DESIGN.md format) in DIR')
  .argument('<dir>', 'folder of .safetensors fixtures')
  .option('--json', 'one JSON object per fixture')
  .action((dir: string, options: { json?: boolean }) => verifyAttentionDir(dir, options));

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`nystromformer: ${(e as Error).message}`);
  process.exit(1);
}
