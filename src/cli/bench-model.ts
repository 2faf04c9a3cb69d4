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
  n: number[];
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
  const lengths = options.n;
  const modes = attentionModes(options.attention, 'bench model');
  if (options.threads) configureEngine({ threads: options.threads });
  const before = backend().bytesInUse;
  const model = await benchModelOf(options, Math.max(...lengths));
  const weightsMb = (backend().bytesInUse - before) / 2 ** 20;
  const c = model.config;
  for (const n of lengths) {
    for (const mode of modes) {
      const dense = isDense(model, mode);
      if (dense && n > options.maxDenseN) {
        if (!options.json) console.log(`${mode} n=${n}: skipped (dense attention above --max-dense-n ${options.maxDenseN})`);
        continue;
      }
      model.setAttention({ attention: mode, numLandmarks: options.landmarks });
      const r = { bench: 'model', attention: mode, landmarks: mode === 'nystrom' ? options.landmarks : null, layers: c.num_hidden_layers, hidden: c.hidden_size, n, ...(await measure(model, n, options.repeats)), weights_mb: round(weightsMb) };
      console.log(options.json ? JSON.stringify(r) : `${mode.padEnd(8)} n=${String(n).padEnd(6)} ${r.ms} ms  ${r.peak_mb} MB working memory`);
    }
  }
  model.dispose();
}

/** A comma-separated list of attention modes, checked. */
export function attentionModes(list: string, command: string): AttentionMode[] {
  const modes = list.split(',').map((s) => s.trim()) as AttentionMode[];
  for (const m of modes) if (!['nystrom', 'hf', 'softmax'].includes(m)) throw new Error(`${command}: unknown attention '${m}' (nystrom, hf, softmax)`);
  return modes;
}

/** Whether `mode` attends densely (n×n) in `model`: softmax, or 'hf' when the config asks for dense. */
export function isDense(model: NystromformerModel, mode: AttentionMode): boolean {
  const c = model.config;
  return mode !== 'nystrom' && (mode === 'softmax' || c.num_landmarks === c.segment_means_seq_len);
}

/** The base model of the checkpoint folder `o.model`, else a random one (randomModel). */
export async function benchModelOf(o: Pick<BenchModelOptions, 'model' | 'layers' | 'hidden' | 'heads'>, longest: number): Promise<NystromformerModel> {
  return o.model ? baseModelOf(await loadModel(o.model)) : randomModel(o, longest);
}

/** BERT-base shape by default, position table long enough for the longest input. */
export function randomModel(o: Pick<BenchModelOptions, 'layers' | 'hidden' | 'heads'>, longest: number): NystromformerModel {
  manualSeed(1);
  return new NystromformerModel({
    num_hidden_layers: o.layers, hidden_size: o.hidden, num_attention_heads: o.heads, intermediate_size: 4 * o.hidden,
    max_position_embeddings: Math.max(510, longest),
  });
}

/**
 * The token ids of every inference benchmark, batch 1 (scripts/bench/infer_torch.py feeds the same).
 */
export function benchIds(n: number, vocab: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (i * 7919 + 13) % vocab);
}

/** Times the engine's forward; `last` receives the last hidden state of the last timed call. */
export async function measure(
  model: NystromformerPreTrainedModel & NystromformerModel, n: number, repeats: number, last?: (hidden: Float32Array) => void,
): Promise<{ ms: number; peak_mb: number }> {
  const ids = benchIds(n, model.config.vocab_size);
  let hidden: Tensor | undefined;
  const run = () => {
    hidden?.dispose(); // before the next forward, so it does not count in that one's working memory
    hidden = noGrad(() => tidy(() => model.forward({ inputIds: Tensor.from(ids, [1, n], 'int32') }).lastHiddenState));
  };
  const { ms, peakMb } = await timeCalls(run, repeats);
  if (hidden) {
    if (last) last((await hidden.read()) as Float32Array);
    hidden.dispose();
  }
  return { ms: round(ms), peak_mb: round(peakMb) };
}

export const round = (x: number) => Math.round(x * 10) / 10;
