/** The `nystromformer` command. */
import { Command, InvalidArgumentError } from 'commander';
import { benchGemm } from './bench-gemm.js';

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
