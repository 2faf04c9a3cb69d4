/**
 * Which attention a layer runs, decided once from the config and the attention settings: the engine
 * (self-attention.ts) and the ONNX exporter (runtime/export-model.ts) both follow this plan.
 *
 * - 'hf' is Hugging Face's choice: exact attention when num_landmarks == segment_means_seq_len
 *   (every published checkpoint), otherwise its Nyström branch with the config's num_landmarks, which
 *   only handles inputs of exactly segment_means_seq_len tokens.
 * - 'nystrom' is the paper's Nyström attention with settings.numLandmarks at any length.
 * - 'softmax' is exact attention.
 * Landmarks are segment means with attention/landmarks.ts's segmentBounds rule.
 */
import type { NystromformerConfig } from './config.js';
import { checkAttentionMode, type AttentionMode, type AttentionSettings } from './saved-attention.js';

export interface NystromPlan {
  numLandmarks: number;
  pinvInit: 'original' | 'exact';
  pinvIterations: number;
}

export type AttentionPlan =
  | { kind: 'dense' }
  | ({ kind: 'nystrom' } & NystromPlan)
  /** `length`: the only input length HF's branch handles (segment_means_seq_len). */
  | ({ kind: 'hf-nystrom'; length: number } & NystromPlan);

/** The plan for `mode` (default: the settings'); an unknown mode throws, its message prefixed by `who`. */
export function attentionPlan(config: NystromformerConfig, settings: AttentionSettings, mode: AttentionMode = settings.mode, who = ''): AttentionPlan {
  checkAttentionMode(mode, who);
  const { pinvInit, pinvIterations } = settings;
  if (mode === 'softmax' || (mode === 'hf' && config.num_landmarks === config.segment_means_seq_len)) return { kind: 'dense' };
  if (mode === 'hf') return { kind: 'hf-nystrom', numLandmarks: config.num_landmarks, pinvInit, pinvIterations, length: config.segment_means_seq_len };
  return { kind: 'nystrom', numLandmarks: settings.numLandmarks, pinvInit, pinvIterations };
}
