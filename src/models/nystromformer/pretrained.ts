/**
 * What every Nyströmformer model shares: its config, how it attends, and loading and saving
 * Hugging Face model folders (config.json + weights), with Hugging Face's key handling:
 * base checkpoints load into head models and back, tied weights, old LayerNorm names, and
 * missing / unexpected keys reported the way `from_pretrained` reports them.
 *
 * The file system is reached only through folder.ts, imported when a folder is read or written, so
 * that this module (and every model class) also loads in browsers.
 */
import { Tensor } from '../../engine/index.js';
import { toFiniteFloat32, type RawTensor } from '../../io/safetensors-format.js';
import type { HubOptions } from '../../io/hub/settings.js';
import type { WeightsFormat } from '../../io/weights.js';
import {
  assignParameter, checkWeightDType, loadQ8Tensors, Module, moduleTensors, quantize, weightDType, type WeightDType,
} from '../../nn/index.js';
import { configToJSON, NystromformerConfig, parseConfig } from './config.js';
import type { Tokenizer } from '../../io/tokenizer.js';
import { checkAttentionMode, withSavedAttention } from './saved-attention.js';
import { AttentionMode, AttentionSettings, defaultAttention } from './self-attention.js';

export interface AttentionOptions {
  /** 'hf' (default: Hugging Face's semantics), 'nystrom' (linear attention at any length) or 'softmax' (exact). */
  attention?: AttentionMode;
  /** Landmarks for 'nystrom' (default: the config's num_landmarks). */
  numLandmarks?: number;
  /** Pseudo-inverse initialisation (default: from the config's inv_coeff_init_option). */
  pinvInit?: 'original' | 'exact';
  /** Pseudo-inverse iterations (default 6). */
  pinvIterations?: number;
}

/** Loading by Hub id (`owner/name`): revision, cache, offline mode, token and download progress (Node only). */
export type HubLoadOptions = Omit<HubOptions, 'onWarning'>;

export interface FromPretrainedOptions extends AttentionOptions, HubLoadOptions {
  /** Which weights to read when the folder has several: 'safetensors' (preferred) or 'bin'. */
  weights?: WeightsFormat;
  /** Throw instead of warning when weights are missing or unused. */
  strict?: boolean;
  /** Where warnings go (default console.warn). */
  onWarning?: (message: string) => void;
  /** Leave weights whose shape differs from the model's at their initialisation (reported as missing), as HF's ignore_mismatched_sizes. */
  ignoreMismatchedSizes?: boolean;
  /** Config fields over the folder's (e.g. id2label for a new classification head). */
  config?: Partial<NystromformerConfig>;
  /** Where the encoder runs: 'engine' (default) or 'onnx' (onnxruntime-node; the Node entry only). */
  runtime?: Runtime;
  /**
   * 'q8' makes every Linear layer 8-bit after loading (inference only: int8 weights, one scale per
   * output channel); a folder saved 8-bit loads 8-bit by itself. 'fp32' refuses such a folder.
   */
  dtype?: WeightDType;
}

export type Runtime = 'engine' | 'onnx';

export interface SaveOptions {
  /** Also write this tokenizer's files (tokenizer.json, and tokenizer_config.json, special_tokens_map.json when it had them). */
  tokenizer?: Tokenizer;
}

/**
 * Puts a model on a runtime other than the engine. The runtime layer sits above the models, so it
 * is handed in: the Node entry (`nystromformer`) calls runtime/onnx-model.ts's provideOnnxRuntime,
 * which registers 'onnx' here; the browser entry registers none.
 */
export type RuntimeInstaller = (model: NystromformerPreTrainedModel) => void;
const installers = new Map<Runtime, RuntimeInstaller>();

export function provideRuntime(runtime: Runtime, install: RuntimeInstaller): void {
  installers.set(runtime, install);
}

export function checkRuntime(runtime: unknown): asserts runtime is Runtime | undefined {
  if (runtime !== undefined && runtime !== 'engine' && runtime !== 'onnx') throw new Error(`runtime must be 'engine' or 'onnx', got '${String(runtime)}'`);
}

export interface LoadReport {
  /** Model parameters the checkpoint did not have (left at their random initialisation). */
  missingKeys: string[];
  /** Checkpoint tensors the model has no place for. */
  unexpectedKeys: string[];
}

export type ModelConstructor<T> = new (config?: Partial<NystromformerConfig>, attention?: AttentionOptions) => T;

/** Buffers Hugging Face keeps in state dicts that are not parameters. */
const IGNORED = [/(^|\.)embeddings\.position_ids$/, /(^|\.)embeddings\.token_type_ids$/];
/** Keys of a head model's base model. */
const BASE = 'nystromformer.';

export abstract class NystromformerPreTrainedModel extends Module {
  readonly config: NystromformerConfig;
  /** Shared by every layer: setAttention changes how the whole model attends. */
  readonly attentionSettings: AttentionSettings;
  /** What the last load found missing or unused. */
  loadReport: LoadReport | null = null;
  /** The class name written to config.json's `architectures`. */
  abstract readonly architecture: string;

  /** `shared`: a head model passes its settings to its base model, so that both attend alike. */
  constructor(config: Partial<NystromformerConfig> = {}, attention: AttentionOptions = {}, shared?: AttentionSettings) {
    super();
    this.config = parseConfig(config, 'config');
    this.attentionSettings = shared ?? defaultAttention(this.config);
    this.setAttention(attention);
  }

  /**
   * Loads a Hugging Face model folder (config.json and weights), or in Node a Hub repository by id
   * (`owner/name`, fetched into huggingface_hub's cache; a folder that exists wins over an id).
   */
  static async fromPretrained<T extends NystromformerPreTrainedModel>(
    this: ModelConstructor<T>, idOrDir: string, options: FromPretrainedOptions = {},
  ): Promise<T> {
    checkRuntime(options.runtime);
    checkWeightDType(options.dtype);
    const install = options.runtime === undefined || options.runtime === 'engine' ? null : installers.get(options.runtime);
    if (install === undefined) {
      throw new Error(`runtime '${options.runtime}' is not loaded: import the library from 'nystromformer' (Node, with onnxruntime-node), not 'nystromformer/web' (in browsers use WebOnnxEncoder)`);
    }
    const folder = await import('./folder.js');
    const dir = await folder.resolveFolder(idOrDir, options);
    const model = new this(parseConfig({ ...(await folder.readConfigJSON(dir)), ...options.config }, folder.configPath(dir)), options);
    try {
      const { tensors, files } = await folder.readFolderWeights(dir, options.weights);
      const report = model.loadWeights(tensors, files.join(', '), options.ignoreMismatchedSizes);
      const messages = reportMessages(report, model.architecture, dir);
      if (options.strict && messages.length > 0) throw new Error(messages.join('\n'));
      for (const message of messages) (options.onWarning ?? console.warn)(message);
      if (options.dtype === 'fp32' && weightDType(model) === 'q8') throw new Error(`${dir} holds 8-bit weights; load it with dtype 'q8'`);
      if (options.dtype === 'q8') await quantize(model);
      install?.(model);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }

  /** Changes how every layer attends (takes effect at the next forward). */
  setAttention(options: AttentionOptions): this {
    const s = this.attentionSettings;
    if (options.attention !== undefined) {
      checkAttentionMode(options.attention);
      s.mode = options.attention;
    }
    if (options.numLandmarks !== undefined) {
      if (!Number.isInteger(options.numLandmarks) || options.numLandmarks < 1) throw new Error(`numLandmarks must be a positive integer, got ${options.numLandmarks}`);
      s.numLandmarks = options.numLandmarks;
    }
    if (options.pinvInit !== undefined) s.pinvInit = options.pinvInit;
    if (options.pinvIterations !== undefined) s.pinvIterations = options.pinvIterations;
    return this;
  }

  /** Copies checkpoint tensors into the parameters with the same (Hugging Face) names. */
  loadWeights(tensors: Map<string, RawTensor>, source = 'checkpoint', ignoreMismatchedSizes = false): LoadReport {
    const available = this.#adaptKeys(tensors);
    const used = new Set<string>(loadQ8Tensors(this, available, source));
    const loaded = new Set<Tensor>();
    const named = this.namedParameters();
    for (const [name, param] of named) {
      if (loaded.has(param)) continue;
      const key = [name, ...aliasesOf(name)].find((k) => available.has(k));
      if (key === undefined) continue;
      const raw = available.get(key)!;
      if (ignoreMismatchedSizes && (raw.shape.length !== param.rank || raw.shape.some((d, i) => d !== param.shape[i]))) continue;
      assignParameter(`${source}: ${key}`, param, toFiniteFloat32(raw, key, source), raw.shape);
      loaded.add(param);
      used.add(key);
    }
    // Aliases of a loaded tensor (a tied decoder, decoder.bias) are not unused.
    for (const [name, param] of named) {
      if (loaded.has(param)) for (const k of [name, ...aliasesOf(name)]) if (available.has(k)) used.add(k);
    }
    const missingKeys = named.filter(([, t]) => !loaded.has(t)).map(([n]) => n);
    const unexpectedKeys = [...available.keys()].filter((k) => !used.has(k) && !IGNORED.some((r) => r.test(k)));
    this.loadReport = { missingKeys: [...new Set(missingKeys)], unexpectedKeys };
    return this.loadReport;
  }

  /**
   * Writes config.json and model.safetensors that Hugging Face's from_pretrained accepts. config.json
   * records the attention the model runs in (`nystromformer_attention`, unless 'hf'), which loading
   * the folder without an attention option then uses; with `tokenizer`, its files are written too,
   * so that the folder runs with the pipelines as it is.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    const { writeModelFolder } = await import('./folder.js');
    writeModelFolder(dir, await moduleTensors(this), withSavedAttention(configToJSON(this.config, this.architecture), this.attentionSettings));
    await options.tokenizer?.save(dir);
  }

  /** True for head models, whose base model sits under 'nystromformer.'. */
  protected abstract get hasBasePrefix(): boolean;

  /** Renames checkpoint keys to this model's: old LayerNorm names, base ↔ head prefixes. */
  #adaptKeys(tensors: Map<string, RawTensor>): Map<string, RawTensor> {
    const renamed = new Map<string, RawTensor>();
    for (const [k, t] of tensors) renamed.set(k.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias'), t);
    const keys = [...renamed.keys()];
    const prefixed = keys.some((k) => k.startsWith(BASE));
    if (this.hasBasePrefix && !prefixed) {
      // a base model's checkpoint loaded into a head model
      return new Map([...renamed].map(([k, t]) => [/^(embeddings|encoder)\./.test(k) ? BASE + k : k, t]));
    }
    if (!this.hasBasePrefix && prefixed) {
      // a head model's checkpoint loaded into the base model: its head is unused
      return new Map([...renamed].map(([k, t]) => [k.startsWith(BASE) ? k.slice(BASE.length) : k, t]));
    }
    return renamed;
  }
}

/** The local folder of a folder path or a Hub id (Node only: the Hub client is imported when needed). */
export async function resolveModelFolder(idOrDir: string, options: FromPretrainedOptions = {}): Promise<string> {
  return (await import('./folder.js')).resolveFolder(idOrDir, options);
}

/** A model folder's config.json, parsed but not yet checked. */
export async function readConfigJSON(dir: string): Promise<Record<string, unknown>> {
  return (await import('./folder.js')).readConfigJSON(dir);
}

/** Other keys the same parameter may be stored under in Hugging Face checkpoints. */
function aliasesOf(name: string): string[] {
  if (name === 'cls.predictions.decoder.bias') return ['cls.predictions.bias'];
  if (name === 'cls.predictions.bias') return ['cls.predictions.decoder.bias'];
  return [];
}

function reportMessages(report: LoadReport, architecture: string, dir: string): string[] {
  const messages: string[] = [];
  if (report.unexpectedKeys.length > 0) {
    messages.push(`Some weights of the model checkpoint at ${dir} were not used when initializing ${architecture}: ${JSON.stringify(report.unexpectedKeys)}`);
  }
  if (report.missingKeys.length > 0) {
    messages.push(
      `Some weights of ${architecture} were not initialized from the model checkpoint at ${dir} and are newly initialized: ` +
      `${JSON.stringify(report.missingKeys)}\nYou should probably train this model on a down-stream task before using it for predictions.`,
    );
  }
  return messages;
}
