/**
 * `nystromformer bench attention`: time and working memory of Nyström vs exact softmax
 * attention as n grows, forward and forward+backward.
 */
import { backend, configureEngine, gradients, nystromAttention, randn, softmaxAttention, tidy } from '../index.js';
import { timeCalls } from './step-timer.js';

export interface BenchAttentionOptions {
  json?: boolean;
  n: number[];
  batch: number;
  heads: number;
  dim: number;
  landmarks: number;
  conv: number;
  backward?: boolean;
  impl: string;
  threads?: number;
  seconds: number;
  maxSoftmaxN: number;
}

type Impl = 'nystrom' | 'softmax';

export async function benchAttention(options: BenchAttentionOptions): Promise<void> {
  const lengths = options.n;
  const impls = options.impl.split(',').map((s) => s.trim());
  for (const impl of impls) if (impl !== 'nystrom' && impl !== 'softmax') throw new Error(`bench attention: unknown impl '${impl}' (nystrom, softmax)`);
  if (options.threads) configureEngine({ threads: options.threads });
  const passes = options.backward ? (['fwd', 'fwdbwd'] as const) : (['fwd'] as const);
  for (const n of lengths) {
    for (const impl of impls as Impl[]) {
      if (impl === 'softmax' && n > options.maxSoftmaxN) {
        if (!options.json) console.log(`softmax n=${n}: skipped (above --max-softmax-n ${options.maxSoftmaxN})`);
        continue;
      }
      for (const pass of passes) {
        const r = await measure(impl, n, pass, options);
        console.log(options.json ? JSON.stringify(r) : `${impl.padEnd(8)} n=${String(n).padEnd(6)} ${pass.padEnd(6)} ${r.ms} ms  ${r.peak_mb} MB`);
      }
    }
  }
}

async function measure(impl: Impl, n: number, pass: 'fwd' | 'fwdbwd', o: BenchAttentionOptions) {
  const shape = [o.batch, o.heads, n, o.dim];
  const [q, k, v] = [1, 2, 3].map((seed) => randn(shape, seed));
  const convWeight = impl === 'nystrom' && o.conv > 0 ? randn([o.heads, 1, o.conv, 1], 4, 0, 0.1) : undefined;
  const inputs = convWeight ? [q, k, v, convWeight] : [q, k, v];
  if (pass === 'fwdbwd') inputs.forEach((t) => (t.requiresGrad = true));
  const dout = pass === 'fwdbwd' ? randn(shape, 5) : undefined;
  try {
    const run = () =>
      tidy(() => {
        const out = impl === 'nystrom' ? nystromAttention(q, k, v, { numLandmarks: o.landmarks, convWeight }) : softmaxAttention(q, k, v);
        if (dout) gradients([out], inputs, [dout]);
      });
    const { ms, peakMb } = await timeCalls(run, 3, o.seconds);
    return { bench: 'attention', device: backend().name, impl, n, pass, ms: round(ms), peak_mb: round(peakMb) };
  } finally {
    [...inputs, ...(dout ? [dout] : [])].forEach((t) => t.dispose());
  }
}

const round = (x: number) => Math.round(x * 10) / 10;
