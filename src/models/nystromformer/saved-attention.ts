/**
 * The attention a model was saved with, in config.json's `nystromformer_attention` field, so that
 * a folder written by `save()` (a trained best/ included) runs as it was trained when loaded
 * without an attention option. Hugging Face's transformers keeps the field as an unknown attribute
 * and ignores it. Absent (and never written) for 'hf', the default:
 *
 *   "nystromformer_attention": { "mode": "nystrom", "num_landmarks": 16, "pinv_init": "original", "pinv_iterations": 6 }
 */
/** Which attention computation a model's layers run (see self-attention.ts). */
export type AttentionMode = 'hf' | 'nystrom' | 'softmax';

/** How every layer of a model attends; one object shared by all layers, changed with setAttention. */
export interface AttentionSettings {
  mode: AttentionMode;
  /** Landmarks for 'nystrom' (and HF's Nyström branch): the config's num_landmarks unless set. */
  numLandmarks: number;
  pinvInit: 'original' | 'exact';
  pinvIterations: number;
}

export const ATTENTION_FIELD = 'nystromformer_attention';

const MODES: readonly AttentionMode[] = ['hf', 'nystrom', 'softmax'];

/** Throws unless `mode` is one of the three; `who` prefixes the message (e.g. 'exportOnnx: '). */
export function checkAttentionMode(mode: unknown, who = ''): asserts mode is AttentionMode {
  if (!MODES.includes(mode as AttentionMode)) throw new Error(`${who}attention must be 'hf', 'nystrom' or 'softmax', got '${String(mode)}'`);
}

/** What the field may hold; every key is optional (defaults: the config's). */
export interface SavedAttention {
  mode?: AttentionMode;
  num_landmarks?: number;
  pinv_init?: 'original' | 'exact';
  pinv_iterations?: number;
}

/** Checks the field of a parsed config.json (when present); `fail` names the file. */
export function checkSavedAttention(value: unknown, fail: (msg: string) => never): void {
  if (value === undefined || value === null) return; // null: absent, as for the other fields
  if (typeof value !== 'object' || Array.isArray(value)) fail(`${ATTENTION_FIELD} must be an object, got ${JSON.stringify(value)}`);
  const v = value as Record<string, unknown>;
  const bad = (key: string, want: string) => fail(`${ATTENTION_FIELD}.${key} must be ${want}, got ${JSON.stringify(v[key])}`);
  if (v.mode !== undefined && !MODES.includes(v.mode as AttentionMode)) bad('mode', `'hf', 'nystrom' or 'softmax'`);
  for (const key of ['num_landmarks', 'pinv_iterations']) {
    if (v[key] !== undefined && !(Number.isInteger(v[key]) && (v[key] as number) >= 1)) bad(key, 'a positive integer');
  }
  if (v.pinv_init !== undefined && v.pinv_init !== 'original' && v.pinv_init !== 'exact') bad('pinv_init', `'original' or 'exact'`);
}

/** The settings a config's field asks for, over `defaults` (the field is checked by parseConfig). */
export function savedAttentionOver(defaults: AttentionSettings, saved: unknown): AttentionSettings {
  const s = (saved ?? {}) as SavedAttention;
  return {
    mode: s.mode ?? defaults.mode,
    numLandmarks: s.num_landmarks ?? defaults.numLandmarks,
    pinvInit: s.pinv_init ?? defaults.pinvInit,
    pinvIterations: s.pinv_iterations ?? defaults.pinvIterations,
  };
}

/** The field for a model's current settings; undefined for 'hf', which the config alone describes. */
function savedAttentionOf(settings: AttentionSettings): SavedAttention | undefined {
  if (settings.mode === 'hf') return undefined;
  if (settings.mode === 'softmax') return { mode: 'softmax' };
  return { mode: 'nystrom', num_landmarks: settings.numLandmarks, pinv_init: settings.pinvInit, pinv_iterations: settings.pinvIterations };
}

/** config.json's fields with ATTENTION_FIELD describing `settings` (removed for 'hf'). */
export function withSavedAttention(json: Record<string, unknown>, settings: AttentionSettings): Record<string, unknown> {
  const { [ATTENTION_FIELD]: _earlier, ...rest } = json;
  const attention = savedAttentionOf(settings);
  return attention ? { ...rest, [ATTENTION_FIELD]: attention } : rest;
}
