/**
 * `nystromformer bench infer`: forward time of a whole Nyströmformer (a random BERT-base-sized one
 * by default, or a checkpoint folder) on the engine and on onnxruntime-node, as the input grows.
 * scripts/bench/infer_torch.py times the same model in PyTorch and prints the same lines.
 *
 * onnxruntime: the model is exported once per attention mode (export_ms) and loaded once
 * (session_ms, graph optimisation 'all', intra-op threads = --threads or the core count); `ms` is
 * the median time of session.run itself, `call_ms` that of the whole synchronous call (the hop to
 * the session's worker thread and the output copy included). Inputs: batch 1, ids as benchIds.
 *
 * Every line has `checksum` = Σᵢ xᵢ·sin(i) over the flattened last hidden state (float64), which
 * runtimes (and PyTorch) agree on to ~1e-6 relative; a runtime after the first at the same mode
 * and n also reports its max abs difference from the first's output.
 */
import { availableParallelism } from 'node:os';
import { backend, configureEngine } from '../engine/index.js';
import type { AttentionMode, NystromformerModel, Runtime } from '../models/index.js';
import { quantize, WEIGHT_DTYPES, type WeightDType } from '../nn/index.js';
import { exportOnnx, SyncOnnxSession } from '../runtime/index.js';
import { attentionModes, benchIds, benchModelOf, isDense, measure, round, type BenchModelOptions } from './bench-model.js';
import { median, timeCalls } from './step-timer.js';

export interface BenchInferOptions extends BenchModelOptions {
  runtime: string;
  /** Comma-separated: fp32, q8 (q8 runs after fp32: quantizing is in place). */
  dtype: string;
}

export async function benchInfer(o: BenchInferOptions): Promise<void> {
  const modes = attentionModes(o.attention, 'bench infer');
  const runtimes = o.runtime.split(',').map((s) => s.trim()) as Runtime[];
  for (const r of runtimes) if (r !== 'engine' && r !== 'onnx') throw new Error(`bench infer: unknown runtime '${r}' (engine, onnx)`);
  const dtypes = o.dtype.split(',').map((s) => s.trim()) as WeightDType[];
  for (const d of dtypes) if (!WEIGHT_DTYPES.includes(d)) throw new Error(`bench infer: unknown dtype '${d}' (${WEIGHT_DTYPES.join(', ')})`);
  // fp32 first: quantizing is in place
  dtypes.sort((a, b) => WEIGHT_DTYPES.indexOf(a) - WEIGHT_DTYPES.indexOf(b));
  if (o.threads) configureEngine({ threads: o.threads });
  const model = await benchModelOf(o, Math.max(...o.n));
  // the first output per mode and n, for the later lines' max_abs_diff
  const first = new Map<string, Output>();
  try {
    for (const dtype of dtypes) {
      if (dtype === 'q8') await quantize(model);
      for (const runtime of runtimes) {
        for (const mode of modes) await benchRuntime(model, { runtime, dtype, mode }, o, first);
      }
    }
  } finally {
    model.dispose();
  }
}

interface Output {
  runtime: Runtime;
  dtype: WeightDType;
  hidden: Float32Array;
}

/** One JSON line per n for this runtime, dtype and attention mode. */
async function benchRuntime(model: NystromformerModel, run: Omit<Output, 'hidden'> & { mode: AttentionMode }, o: BenchInferOptions,
  first: Map<string, Output>): Promise<void> {
  const { runtime, dtype, mode } = run;
  const c = model.config;
  const todo = o.n.filter((n) => !isDense(model, mode) || n <= o.maxDenseN);
  if (todo.length < o.n.length && !o.json) console.log(`${mode}: n > --max-dense-n ${o.maxDenseN} skipped (dense attention)`);
  if (todo.length === 0) return;
  model.setAttention({ attention: mode, numLandmarks: o.landmarks });
  const timer = runtime === 'engine' ? engineTimer(model, o.repeats) : onnxTimer(model, mode, o);
  try {
    for (const n of todo) {
      const { hidden, timing } = await timer.time(n);
      const key = `${mode}/${n}`;
      const earlier = first.get(key);
      if (!earlier) first.set(key, { runtime, dtype, hidden });
      // named after the first output's runtime, and its dtype where that differs from this line's
      const against = earlier && (earlier.dtype === dtype ? earlier.runtime : `${earlier.runtime}_${earlier.dtype}`);
      const line = {
        bench: 'infer', runtime, dtype, ...(runtime === 'engine' && { device: backend().name }), attention: mode,
        landmarks: mode === 'nystrom' ? o.landmarks : null,
        layers: c.num_hidden_layers, hidden: c.hidden_size, heads: c.num_attention_heads, n, ...timing, ...timer.setup,
        checksum: checksum(hidden),
        ...(earlier ? { [`max_abs_diff_vs_${against}`]: maxAbsDiff(hidden, earlier.hidden) } : {}),
      };
      console.log(o.json ? JSON.stringify(line) : `${runtime.padEnd(6)} ${dtype} ${mode.padEnd(8)} n=${String(n).padEnd(6)} ${timing.ms} ms (${timing.threads} threads)`);
    }
  } finally {
    timer.close();
  }
}

interface Timer {
  /** What preparing this runtime cost (reported on each of its lines). */
  setup: Record<string, number>;
  time(n: number): Promise<{ timing: { ms: number; threads: number } & Record<string, number>; hidden: Float32Array }>;
  close(): void;
}

/** The engine's forward, timed as `bench model` times it (peak_mb: working memory above the weights). */
function engineTimer(model: NystromformerModel, repeats: number): Timer {
  return {
    setup: {},
    async time(n) {
      let hidden: Float32Array = new Float32Array(0);
      const r = await measure(model, n, repeats, (h) => (hidden = h));
      return { timing: { ms: r.ms, peak_mb: r.peak_mb, threads: backend().threads }, hidden };
    },
    close() {},
  };
}

/** The exported encoder on onnxruntime-node through SyncOnnxSession (the path of setRuntime(model, 'onnx')). */
function onnxTimer(model: NystromformerModel, mode: AttentionMode, o: BenchInferOptions): Timer {
  const threads = o.threads ?? availableParallelism();
  let t0 = performance.now();
  const bytes = exportOnnx(model, { attention: mode });
  const exportMs = performance.now() - t0;
  t0 = performance.now();
  const session = SyncOnnxSession.create(bytes, { intraOpNumThreads: threads, graphOptimizationLevel: 'all' });
  const sessionMs = performance.now() - t0;
  const vocab = model.config.vocab_size;
  return {
    setup: { export_ms: Math.round(exportMs), session_ms: Math.round(sessionMs), onnx_mb: round(bytes.byteLength / 2 ** 20) },
    async time(n) {
      const ids = benchIds(n, vocab);
      const runMs: number[] = [];
      let hidden: Float32Array = new Float32Array(0);
      // fresh feeds per call: run() hands their buffers to the worker
      const call = () => {
        const feeds = {
          input_ids: { data: BigInt64Array.from(ids, BigInt), dims: [1, n] },
          attention_mask: { data: new BigInt64Array(n).fill(1n), dims: [1, n] },
          token_type_ids: { data: new BigInt64Array(n), dims: [1, n] },
        };
        hidden = session.run(Object.fromEntries(Object.entries(feeds).filter(([k]) => session.inputNames.includes(k)))).last_hidden_state.data;
        runMs.push(session.lastRunMs);
      };
      const { ms: callMs } = await timeCalls(call, o.repeats);
      // runMs[0] is the warm-up's
      return { timing: { ms: round(median(runMs.slice(1))), call_ms: round(callMs), threads }, hidden };
    },
    close: () => session.close(),
  };
}

/** Σᵢ xᵢ·sin(i), in float64: a fingerprint of a whole output that other programs can recompute. */
export function checksum(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * Math.sin(i);
  return s;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`bench infer: outputs of ${a.length} and ${b.length} values cannot be compared`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
