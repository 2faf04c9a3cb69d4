/**
 * The Hugging Face `nystromformer` config.json: every field with its default (docs/algorithm.md §2), checked
 * on the way in. Fields this library does not know are kept and written back unchanged.
 */
import { isKnown } from '../../io/lookup.js';
import { ACTIVATIONS } from '../activations.js';
import { ATTENTION_FIELD, checkSavedAttention, type SavedAttention } from './saved-attention.js';

export interface NystromformerConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: string;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  segment_means_seq_len: number;
  num_landmarks: number;
  /** null (or 0) means no depthwise conv on V. */
  conv_kernel_size: number | null;
  /** false → 'original' pseudo-inverse init; 'original' | 'exact' also accepted (true means 'exact'). */
  inv_coeff_init_option: boolean | 'original' | 'exact';
  initializer_range: number;
  layer_norm_eps: number;
  pad_token_id: number | null;
  bos_token_id: number | null;
  eos_token_id: number | null;
  tie_word_embeddings: boolean;
  /** Classification heads: labels by id (num_labels = its size). */
  id2label: Record<string, string>;
  /** 'regression' | 'single_label_classification' | 'multi_label_classification', or null to infer. */
  problem_type: string | null;
  architectures?: string[];
  /**
   * This library's own field: the attention the model was saved with ('nystrom' with its landmarks,
   * or 'softmax'), the default when it is loaded without an attention option. Absent: 'hf'.
   */
  nystromformer_attention?: SavedAttention;
  /** Unknown fields, kept as they were. */
  [extra: string]: unknown;
}

export const CONFIG_DEFAULTS: Readonly<NystromformerConfig> = Object.freeze({
  vocab_size: 30000,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu_new',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 510,
  type_vocab_size: 2,
  segment_means_seq_len: 64,
  num_landmarks: 64,
  conv_kernel_size: 65,
  inv_coeff_init_option: false,
  initializer_range: 0.02,
  layer_norm_eps: 1e-5,
  pad_token_id: 1,
  bos_token_id: 0,
  eos_token_id: 2,
  tie_word_embeddings: true,
  id2label: { 0: 'LABEL_0', 1: 'LABEL_1' },
  problem_type: null,
});

const POSITIVE_INTEGERS = [
  'vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size',
  'max_position_embeddings', 'type_vocab_size', 'segment_means_seq_len', 'num_landmarks',
] as const;
const PROBABILITIES = ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const;
/**
 * Upper bounds that stop a typo (or a hostile file) before minutes of building: released
 * checkpoints stay far below them. MAX_PARAMETERS: the engine keeps every tensor in one wasm32
 * memory of 4 GiB, so weights of more float32 values than that can never be built.
 */
export const MAX_LAYERS = 1000;
export const MAX_SIZE = 2 ** 24;
const MAX_PARAMETERS = 2 ** 30;
const PROBLEM_TYPES = ['regression', 'single_label_classification', 'multi_label_classification'];

/** Checks a parsed config.json and fills in defaults; errors name the source and the field. */
export function parseConfig(json: unknown, source = 'config.json'): NystromformerConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${source}: expected a JSON object`);
  const raw = json as Record<string, unknown>;
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (raw.model_type !== undefined && raw.model_type !== 'nystromformer') {
    fail(`model_type is '${String(raw.model_type)}', not 'nystromformer'`);
  }
  const config = { ...CONFIG_DEFAULTS, ...withoutNulls(raw) } as NystromformerConfig;
  delete config.model_type; // written back by configToJSON
  if (raw.conv_kernel_size === null) config.conv_kernel_size = null;
  for (const key of ['pad_token_id', 'bos_token_id', 'eos_token_id'] as const) if (raw[key] === null) config[key] = null;

  for (const key of POSITIVE_INTEGERS) {
    if (!Number.isInteger(config[key]) || config[key] < 1) fail(`${key} must be a positive integer, got ${JSON.stringify(config[key])}`);
    const max = key === 'num_hidden_layers' ? MAX_LAYERS : MAX_SIZE;
    if (config[key] > max) fail(`${key} must be at most ${max}, got ${config[key]}`);
  }
  const parameters = parameterCount(config);
  if (parameters > MAX_PARAMETERS) {
    fail(`these sizes make a model of at least ${parameters.toLocaleString('en-US')} parameters (${(parameters * 4 / 2 ** 30).toFixed(1)} GiB as float32), ` +
      `more than the engine's 4 GiB memory holds; check vocab_size, hidden_size, intermediate_size and num_hidden_layers`);
  }
  const pad = config.pad_token_id;
  if (pad !== null && !(Number.isInteger(pad) && pad >= 0 && pad < config.vocab_size)) {
    fail(`pad_token_id must be an integer in [0, ${config.vocab_size}) or null, got ${JSON.stringify(pad)}`);
  }
  if (typeof config.tie_word_embeddings !== 'boolean') fail(`tie_word_embeddings must be true or false, got ${JSON.stringify(config.tie_word_embeddings)}`);
  for (const key of PROBABILITIES) {
    if (typeof config[key] !== 'number' || !(config[key] >= 0 && config[key] < 1)) fail(`${key} must be in [0, 1), got ${JSON.stringify(config[key])}`);
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    fail(`hidden_size ${config.hidden_size} is not divisible by num_attention_heads ${config.num_attention_heads}`);
  }
  const k = config.conv_kernel_size;
  if (k === 0) config.conv_kernel_size = null;
  else if (k !== null && (!Number.isInteger(k) || k < 1 || k % 2 === 0)) {
    fail(`conv_kernel_size must be an odd positive integer or null, got ${JSON.stringify(k)}`);
  }
  if (typeof config.hidden_act !== 'string' || !isKnown(ACTIVATIONS, config.hidden_act)) {
    fail(`hidden_act '${config.hidden_act}' is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  if (!(typeof config.layer_norm_eps === 'number' && config.layer_norm_eps > 0)) fail(`layer_norm_eps must be positive, got ${JSON.stringify(config.layer_norm_eps)}`);
  if (!(typeof config.initializer_range === 'number' && config.initializer_range >= 0)) fail(`initializer_range must be ≥ 0, got ${JSON.stringify(config.initializer_range)}`);
  const inv = config.inv_coeff_init_option;
  if (![false, true, 'original', 'exact'].includes(inv)) fail(`inv_coeff_init_option must be false, true, 'original' or 'exact', got ${JSON.stringify(inv)}`);
  if (config.problem_type !== null && !PROBLEM_TYPES.includes(config.problem_type)) {
    fail(`problem_type must be one of ${PROBLEM_TYPES.join(', ')}, got ${JSON.stringify(config.problem_type)}`);
  }
  checkSavedAttention(raw[ATTENTION_FIELD], fail);
  config.id2label = labelsOf(raw, fail);
  delete config.num_labels;
  delete config.label2id;
  return config;
}

/** The weights of the embeddings and the encoder layers (biases and norms left out: a lower bound). */
function parameterCount(c: NystromformerConfig): number {
  const h = c.hidden_size;
  return (c.vocab_size + c.max_position_embeddings + c.type_vocab_size) * h + c.num_hidden_layers * (4 * h * h + 2 * h * c.intermediate_size);
}

/** id2label from the file, or from num_labels alone (LABEL_0 … LABEL_{n−1}), as Hugging Face does. */
function labelsOf(raw: Record<string, unknown>, fail: (msg: string) => never): Record<string, string> {
  if (raw.id2label !== undefined) {
    const map = raw.id2label;
    if (map === null || typeof map !== 'object') fail('id2label must be an object of id → label');
    const entries = Object.entries(map as object);
    if (entries.length === 0 || entries.some(([id, l]) => !/^\d+$/.test(id) || typeof l !== 'string')) fail('id2label must map integer ids to label strings');
    if (raw.num_labels !== undefined && raw.num_labels !== entries.length) fail(`num_labels ${raw.num_labels} disagrees with id2label's ${entries.length} labels`);
    return Object.fromEntries(entries);
  }
  if (raw.num_labels !== undefined) {
    const n = raw.num_labels;
    if (!Number.isInteger(n) || (n as number) < 1) fail(`num_labels must be a positive integer, got ${JSON.stringify(n)}`);
    return Object.fromEntries(Array.from({ length: n as number }, (_, i) => [String(i), `LABEL_${i}`]));
  }
  return { ...CONFIG_DEFAULTS.id2label };
}

function withoutNulls(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== null));
}

export function numLabels(config: NystromformerConfig): number {
  return Object.keys(config.id2label).length;
}

/** The pseudo-inverse initialisation the config asks for. */
export function pinvInitOf(config: NystromformerConfig): 'original' | 'exact' {
  const inv = config.inv_coeff_init_option;
  return inv === true || inv === 'exact' ? 'exact' : 'original';
}

/** config.json as Hugging Face writes it: model_type, every field, label maps, unknown fields. */
export function configToJSON(config: NystromformerConfig, architecture?: string): Record<string, unknown> {
  const label2id = Object.fromEntries(Object.entries(config.id2label).map(([id, label]) => [label, Number(id)]));
  return { model_type: 'nystromformer', ...config, ...(architecture && { architectures: [architecture] }), label2id };
}
