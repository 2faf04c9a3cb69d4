/** Messages between the demo page and its worker. */
import type { AttentionTiming, HeadAttention, MaskCandidates, TimingShape } from './demo-compute.js';

export type DemoRequest =
  | { type: 'init'; threads: number; /** folder URL ending in '/' */ modelUrl: string }
  | { type: 'run'; idsA: number[]; idsB: number[]; maskId: number; topK: number; layer: number; head: number }
  | { type: 'bench'; nystrom: number[]; softmax: number[]; shape: TimingShape };

export interface ModelSummary {
  layers: number;
  heads: number;
  hidden: number;
  landmarks: number;
  maxPositions: number;
}

export interface RunResult {
  fill: MaskCandidates[];
  /** Unit-length mean-pooled vectors of documents A and B. */
  embA: Float32Array;
  embB: Float32Array;
  attention: HeadAttention;
  ms: number;
  /** Kernel shares each thread ran during the run (slot 0: the worker itself). */
  shares: number[];
}

export type DemoReply =
  | { type: 'ready'; threads: number; build: string; model: ModelSummary }
  | { type: 'progress'; what: string; done: number; total: number }
  | ({ type: 'result' } & RunResult)
  | { type: 'timing'; timing: AttentionTiming }
  | { type: 'bench-done' }
  | { type: 'error'; message: string };
