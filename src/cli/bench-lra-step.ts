/**
 * `nystromformer bench lra-step`: time and peak memory of one training step (forward, backward,
 * AdamW) of the LRA encoder (docs/algorithm.md §3: 2 layers, 64 dimensions, 2 heads) for each attention as
 * the length grows — the efficiency table of the paper's kind.
 */
import { backend, configureEngine, Tensor } from '../engine/index.js';
import { LraClassifier } from '../models/index.js';
import { manualSeed } from '../nn/index.js';
import { AdamW } from '../train/index.js';
import { printStepProfile } from './step-profile.js';
import { timeCalls, trainingStep } from './step-timer.js';

export interface BenchLraStepOptions {
  json?: boolean;
  n: number[];
  attention: string;
  batch: number;
  repeats: number;
  threads?: number;
  /** Micro-batches per step (batch / accumulate sequences each), their gradients summed: a batch that does not fit at once. */
  accumulate?: number;
  /** One more step with every kernel timed (step-profile.ts). */
  profile?: boolean;
}

export async function benchLraStep(o: BenchLraStepOptions): Promise<void> {
  const lengths = o.n;
  const accumulate = o.accumulate ?? 1;
  if (o.batch % accumulate !== 0) throw new Error(`bench lra-step: --batch ${o.batch} is not a multiple of --accumulate ${accumulate}`);
  if (o.threads) configureEngine({ threads: o.threads });
  for (const n of lengths) {
    for (const attention of o.attention.split(',').map((s) => s.trim())) {
      manualSeed(1);
      const model = new LraClassifier({ vocabSize: 256, maxLength: n, classes: 10, attention }).train();
      const optimizer = new AdamW(model.namedParameters(), { weightDecay: 0 });
      const micro = o.batch / accumulate;
      const ids = Int32Array.from({ length: o.batch * n }, (_, i) => (i * 7919) % 256);
      const step = trainingStep((k) => model.forward({
        inputIds: Tensor.from(ids.subarray(k * micro * n, (k + 1) * micro * n), [micro, n], 'int32'),
        attentionMask: Tensor.from(new Float32Array(micro * n).fill(1), [micro, n]),
        labels: Tensor.from(new Int32Array(micro), [micro], 'int32'),
      }).loss!, optimizer, accumulate);
      const { ms, peakMb } = await timeCalls(step, o.repeats);
      const r = {
        bench: 'lra-step', device: backend().name, attention, n, batch: o.batch, ...(accumulate > 1 && { accumulate }), ms: Math.round(ms), peak_mb: Math.round(peakMb),
      };
      console.log(o.json ? JSON.stringify(r) : `${attention.padEnd(14)} n=${String(n).padEnd(6)} ${r.ms} ms/step  ${r.peak_mb} MB`);
      if (o.profile) printStepProfile(step, { attention, n, batch: o.batch }, o.json);
      model.dispose();
      optimizer.dispose();
    }
  }
}
