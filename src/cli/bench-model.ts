/**
 * `nystromformer bench model`: inference time and working memory of a whole Nyströmformer (a
 * random BERT-base-sized one by default, or a checkpoint folder) as the input grows, with
 * Nyström attention against Hugging Face's dense path.
 */
import { backend, configureEngine, noGrad, Tensor, tidy } from '../engine/index.js';
import { timeCalls } from './step-timer.js';
import { loadModel, NystromformerModel, NystromformerPreTrainedModel, type AttentionMode } from '../models/index.js';
import { baseModelOf } from '../models/pipelines/encode.js';
import { manualSeed } from '../nn/index.js';

export interface BenchModelOptions {
  json?: boolean;
  n: string;
  attention: string;
  landmarks: number;
  model?: string;
  layers: number;
  hidden: number;
  heads: number;
  repeats: number;
  maxDenseN: number;
  threads?: number;
}

export async function benchModel(options: BenchModelOptions): Promise<void> {
  const lengths = options.n.split(',').map(Number);
  if (!lengths.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`bench model: --n wants positive integers, got '${options.n}'`);
  const modes = options.attention.split(',').map((s) => s.trim()) as AttentionMode[];
  for (const m of modes) if (!['nystrom', 'hf', 'softmax'].includes(m)) throw new Error(`bench model: unknown attention '${m}' (nystrom, hf, softmax)`);
  if (options.threads) configureEngine({ threads: options.threads });
  const before = backend().bytesInUse;
  const model = options.model ? baseModelOf(await loadModel(options.model)) : randomModel(options, Math.max(...lengths));
  const weightsMb = (backend().bytesInUse - before) / 2 ** 20;
  const c = model.config;
  for (const n of lengths) {
    for (const mode of modes) {
      const dense = mode !== 'nystrom' && (mode === 'softmax' || c.num_landmarks === c.segment_means_seq_len);
      if (dense && n > options.maxDenseN) {
        if (!options.json) console.log(`${mode} n=${n}: skipped (dense attention above --max-dense-n ${options.maxDenseN})`);
        continue;
      }
      model.setAttention({ attention: mode, numLandmarks: options.landmarks });
      const r = { bench: 'model', attention: mode, landmarks: mode === 'nystrom' ? options.landmarks : null, layers: c.num_hidden_layers, hidden: c.hidden_size, n, ...measure(model, n, options.repeats), weights_mb: round(weightsMb) };
      console.log(options.json ? JSON.stringify(r) : `${mode.padEnd(8)} n=${String(n).padEnd(6)} ${r.ms} ms  ${r.peak_mb} MB working memory`);
    }
  }
  model.dispose();
}

/** BERT-base shape by default, position table long enough for the longest input. */
function randomModel(o: BenchModelOptions, longest: number): NystromformerModel {
  manualSeed(1);
  return new NystromformerModel({
    num_hidden_layers: o.layers, hidden_size: o.hidden, num_attention_heads: o.heads, intermediate_size: 4 * o.hidden,
    max_position_embeddings: Math.max(510, longest),
  });
}

function measure(model: NystromformerPreTrainedModel & NystromformerModel, n: number, repeats: number): { ms: number; peak_mb: number } {
  const vocab = model.config.vocab_size;
  const ids = Int32Array.from({ length: n }, (_, i) => (i * 7919 + 13) % vocab);
  const run = () => noGrad(() => tidy(() => {
    model.forward({ inputIds: Tensor.from(ids, [1, n], 'int32') }).lastHiddenState.toArray();
  }));
  const { ms, peakMb } = timeCalls(run, repeats);
  return { ms: round(ms), peak_mb: round(peakMb) };
}

const round = (x: number) => Math.round(x * 10) / 10;
