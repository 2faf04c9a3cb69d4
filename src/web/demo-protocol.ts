/** Messages between the demo page and its worker. */
import type { AttentionTiming, HeadAttention, MaskCandidates, ModelFiles, TimingShape } from './demo-compute.js';
import type { ClassifyResult } from '../models/pipelines/classify.js';
import type { TokenExample } from '../data/synthetic.js';
import type { TrainSettings, TrainStep } from './demo-train.js';

export type DemoRequest =
  | { type: 'init'; threads: number; /** where ops run ('auto': WebGPU where the browser has an adapter) */ device: 'auto' | 'webgpu' | 'cpu'; /** folder URL ending in '/' */ modelUrl: string }
  /** A model folder the visitor picked (the worker takes over the weights' buffer). */
  | { type: 'load'; files: ModelFiles }
  | { type: 'run'; idsA: number[]; idsB: number[]; maskId: number; topK: number; layer: number; head: number }
  | { type: 'bench'; nystrom: number[]; softmax: number[]; shape: TimingShape }
  | { type: 'train'; examples: TokenExample[]; settings: TrainSettings };

export interface ModelSummary {
  architecture: 'NystromformerForMaskedLM' | 'NystromformerForSequenceClassification';
  layers: number;
  heads: number;
  hidden: number;
  landmarks: number;
  maxPositions: number;
  vocabSize: number;
}

export interface RunResult {
  /** Masked LM: candidates per [MASK] of document A (else empty). */
  fill: MaskCandidates[];
  /** Classifier: document A's scores in label order (else empty). */
  classes: ClassifyResult[];
  /** Unit-length mean-pooled vectors of documents A and B. */
  embA: Float32Array;
  embB: Float32Array;
  attention: HeadAttention;
  ms: number;
  /** Kernel shares each thread ran during the run (slot 0: the worker itself); empty on WebGPU. */
  shares: number[];
}

export type DemoReply =
  | { type: 'ready'; threads: number; build: string; /** 'WebGPU (adapter)' or 'WebAssembly' */ device: string; model: ModelSummary }
  | { type: 'progress'; what: string; done: number; total: number }
  | ({ type: 'result' } & RunResult)
  | { type: 'timing'; timing: AttentionTiming }
  | { type: 'bench-done' }
  | ({ type: 'train-step' } & TrainStep)
  | { type: 'train-done'; steps: TrainStep[] }
  | { type: 'error'; message: string };
