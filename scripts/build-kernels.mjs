// Compiles the AssemblyScript kernels twice: plain 128-bit SIMD, and SIMD with relaxed FMA.
// The runtime probes for relaxed SIMD and loads whichever build the engine can run.
import { main } from 'assemblyscript/asc';
import { mkdirSync } from 'node:fs';
import { generateOpCodes } from './op-codes.mjs';

const entry = 'src/engine/kernels/index.ts';
const common = [
  entry, '--runtime', 'stub', '-O3', '--noAssert', '--converge',
  '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536',
  '--enable', 'simd', '--enable', 'threads',
];
const builds = {
  simd: [],
  relaxed: ['--enable', 'relaxed-simd'],
};

await generateOpCodes();
mkdirSync('dist/kernels', { recursive: true });
for (const [name, extra] of Object.entries(builds)) {
  const { error, stderr } = await main([...common, ...extra, '-o', `dist/kernels/${name}.wasm`]);
  if (error) {
    console.error(stderr.toString());
    console.error(`kernel build '${name}' failed: ${error.message}`);
    process.exit(1);
  }
}
console.log(`kernels built: ${Object.keys(builds).map((b) => `dist/kernels/${b}.wasm`).join(', ')}`);
