/**
 * `nystromformer bench train`: training-step throughput (tokens/s) of a classifier — forward,
 * backward and an AdamW update — as the sequence grows, Nyström against softmax attention.
 * Default: BERT-small size (4 layers, 256 hidden, 4 heads).
 */
import { configureEngine, Tensor } from '../engine/index.js';
import { NystromformerForSequenceClassification, type AttentionMode } from '../models/index.js';
import { manualSeed } from '../nn/index.js';
import { AdamW } from '../train/index.js';
import { printStepProfile } from './step-profile.js';
import { timeCalls, trainingStep } from './step-timer.js';

export interface BenchTrainOptions {
  json?: boolean;
  n: number[];
  attention: string;
  landmarks: number;
  batch: number;
  layers: number;
  hidden: number;
  heads: number;
  repeats: number;
  threads?: number;
  /** One more step with every kernel timed (step-profile.ts). */
  profile?: boolean;
}

export async function benchTrain(o: BenchTrainOptions): Promise<void> {
  const lengths = o.n;
  const modes = o.attention.split(',').map((s) => s.trim());
  for (const m of modes) if (m !== 'nystrom' && m !== 'softmax') throw new Error(`bench train: unknown attention '${m}' (nystrom, softmax)`);
  if (o.threads) configureEngine({ threads: o.threads });
  for (const n of lengths) {
    for (const mode of modes) {
      manualSeed(1);
      const model = new NystromformerForSequenceClassification({
        num_hidden_layers: o.layers, hidden_size: o.hidden, num_attention_heads: o.heads, intermediate_size: 4 * o.hidden,
        max_position_embeddings: n, conv_kernel_size: 33,
      }, { attention: mode as AttentionMode, numLandmarks: o.landmarks }).train();
      const optimizer = new AdamW(model.namedParameters());
      const ids = Int32Array.from({ length: o.batch * n }, (_, i) => 5 + ((i * 7919) % 1000));
      const step = trainingStep(() => model.forward({
        inputIds: Tensor.from(ids, [o.batch, n], 'int32'), labels: Tensor.from(new Int32Array(o.batch), [o.batch], 'int32'),
      }).loss!, optimizer);
      const { ms, peakMb } = await timeCalls(step, o.repeats);
      const r = {
        bench: 'train', attention: mode, landmarks: mode === 'nystrom' ? o.landmarks : null, layers: o.layers, hidden: o.hidden,
        batch: o.batch, n, ms_per_step: Math.round(ms), tokens_per_s: Math.round((o.batch * n * 1000) / ms), peak_mb: Math.round(peakMb),
      };
      console.log(o.json ? JSON.stringify(r) : `${mode.padEnd(8)} n=${String(n).padEnd(6)} ${r.ms_per_step} ms/step  ${r.tokens_per_s} tokens/s  ${r.peak_mb} MB`);
      if (o.profile) printStepProfile(step, { attention: mode, n, batch: o.batch, layers: o.layers, hidden: o.hidden }, o.json);
      model.dispose();
      optimizer.dispose();
    }
  }
}
