/**
 * `pipeline(task, dir, options)`: the transformers.js way in, on a Hugging Face model folder or Hub id.
 *
 *   const fill = await pipeline('fill-mask', 'test/fixtures/models/mlm-dense-tied');
 *   await fill('paris is the [MASK] of france.', { topK: 3 });  // [{ score, token, token_str, sequence }, …]
 *
 * Node only (it reads the folder), so exported from the Node entry and not from `nystromformer/web`.
 */
import { Tokenizer } from '../../io/tokenizer.js';
import {
  loadModel, NystromformerForMaskedLM, NystromformerForSequenceClassification,
  type AttentionOptions, type FromPretrainedOptions, type NystromformerPreTrainedModel, type Runtime,
} from '../nystromformer/index.js';
import { readConfigJSON } from '../nystromformer/pretrained.js';
import { resolveFolder } from '../nystromformer/folder.js';
import type { HubOptions, ProgressEvent as HubProgressEvent } from '../../io/hub/settings.js';
import {
  checkOptionKeys, featureExtractionCall, fillMaskCall, textClassificationCall, type FeatureExtractionPipeline,
  type FillMaskPipeline, type PipelineParts, type TextClassificationPipeline,
} from './pipeline-tasks.js';

/** transformers.js's loading events: `initiate` and `done` per file, `ready` once the pipeline is built. */
export type PipelineProgress =
  | { status: 'initiate' | 'done'; name: string; file: string }
  | { status: 'ready'; name: string; task: string; model: string }
  | HubProgressEvent;

/** A Hub id is resolved with these (a local folder that exists always wins): revision, cacheDir, localFilesOnly, token. */
export interface PipelineOptions extends AttentionOptions, Pick<HubOptions, 'revision' | 'cacheDir' | 'localFilesOnly' | 'token'> {
  /** Weights' precision: 'fp32' only (the engine computes in float32). */
  dtype?: 'fp32';
  /** Where the model runs: 'cpu' only for now (a GPU backend is future work). */
  device?: 'cpu';
  /** 'engine' (default) or 'onnx': the encoder on onnxruntime-node, exported in memory. */
  runtime?: Runtime;
  /** Called as the folder's files are read. */
  progressCallback?: (event: PipelineProgress) => void;
  /** Where loading warnings go (missing or unused weights; default console.warn). */
  onWarning?: (message: string) => void;
}

export type TaskName = 'fill-mask' | 'text-classification' | 'sentiment-analysis' | 'feature-extraction' | 'embeddings';
export type AnyPipeline = FillMaskPipeline | TextClassificationPipeline | FeatureExtractionPipeline;

interface Task {
  /** The canonical name, as `pipeline.task` reports it. */
  name: string;
  load(dir: string, options: FromPretrainedOptions): Promise<NystromformerPreTrainedModel>;
  call(model: NystromformerPreTrainedModel, tokenizer: Tokenizer): (...args: never[]) => Promise<unknown>;
}

const FILL_MASK: Task = {
  name: 'fill-mask',
  load: (dir, o) => NystromformerForMaskedLM.fromPretrained(dir, o),
  call: (model, tokenizer) => fillMaskCall(model as NystromformerForMaskedLM, tokenizer),
};
const TEXT_CLASSIFICATION: Task = {
  name: 'text-classification',
  load: (dir, o) => NystromformerForSequenceClassification.fromPretrained(dir, o),
  call: (model, tokenizer) => textClassificationCall(model as NystromformerForSequenceClassification, tokenizer),
};
const FEATURE_EXTRACTION: Task = {
  name: 'feature-extraction',
  // as the folder's architecture, so that a head checkpoint loads without unused-weight warnings
  load: (dir, o) => loadModel(dir, o),
  call: featureExtractionCall,
};

/** Task names, with transformers.js's aliases; a Map, so that 'constructor' or '__proto__' is no task. */
const TASKS = new Map<string, Task>([
  ['fill-mask', FILL_MASK],
  ['text-classification', TEXT_CLASSIFICATION],
  ['sentiment-analysis', TEXT_CLASSIFICATION],
  ['feature-extraction', FEATURE_EXTRACTION],
  ['embeddings', FEATURE_EXTRACTION],
]);

const OPTION_KEYS = ['revision', 'cacheDir', 'localFilesOnly', 'token', 'attention', 'numLandmarks', 'pinvInit', 'pinvIterations', 'dtype', 'device', 'runtime', 'progressCallback', 'onWarning'];

/**
 * Loads a model folder (config.json, weights, tokenizer.json) for a task and returns a function that
 * runs it, as transformers.js's `pipeline` does: 'fill-mask', 'text-classification' (alias
 * 'sentiment-analysis') and 'feature-extraction' (alias 'embeddings'). The model is a local folder or a
 * Hugging Face Hub id (`owner/name`, downloaded into the Hub cache once);
 * attention options are those of `fromPretrained` (default: what config.json records, else 'hf').
 */
export function pipeline(task: 'fill-mask', dir: string, options?: PipelineOptions): Promise<FillMaskPipeline>;
export function pipeline(task: 'text-classification' | 'sentiment-analysis', dir: string, options?: PipelineOptions): Promise<TextClassificationPipeline>;
export function pipeline(task: 'feature-extraction' | 'embeddings', dir: string, options?: PipelineOptions): Promise<FeatureExtractionPipeline>;
export function pipeline(task: TaskName, dir: string, options?: PipelineOptions): Promise<AnyPipeline>;
export async function pipeline(task: TaskName, idOrDir: string, options: PipelineOptions = {}): Promise<AnyPipeline> {
  const spec = typeof task === 'string' ? TASKS.get(task) : undefined;
  if (!spec) throw new Error(`pipeline: unknown task ${JSON.stringify(task)} (tasks: ${[...TASKS.keys()].join(', ')})`);
  if (typeof idOrDir !== 'string' || idOrDir === '') throw new Error(`pipeline: the model must be a folder path or a Hub id, got ${JSON.stringify(idOrDir)}`);
  checkOptionKeys(options, OPTION_KEYS, 'pipeline');
  if (options.dtype !== undefined && options.dtype !== 'fp32') {
    throw new Error(`pipeline: dtype '${String(options.dtype)}' is not supported (options.dtype: only 'fp32'; the engine computes in float32)`);
  }
  if (options.device !== undefined && options.device !== 'cpu') {
    throw new Error(`pipeline: device '${String(options.device)}' is not supported yet (options.device: only 'cpu'; a GPU backend is future work)`);
  }
  const progress = options.progressCallback ?? (() => {});
  const step = async <T>(file: string, read: () => Promise<T>): Promise<T> => {
    progress({ status: 'initiate', name: idOrDir, file });
    const value = await read();
    progress({ status: 'done', name: idOrDir, file });
    return value;
  };
  const { revision, cacheDir, localFilesOnly, token } = options;
  const dir = await resolveFolder(idOrDir, { revision, cacheDir, localFilesOnly, token, progressCallback: options.progressCallback, onWarning: options.onWarning });
  await step('config.json', () => readConfigJSON(dir));
  const tokenizer = await step('tokenizer.json', () => Tokenizer.fromDir(dir));
  const { attention, numLandmarks, pinvInit, pinvIterations, runtime, onWarning } = options;
  const model = await step(await weightsFileIn(dir), () => spec.load(dir, { attention, numLandmarks, pinvInit, pinvIterations, runtime, onWarning }));
  const parts: PipelineParts<NystromformerPreTrainedModel> = { task: spec.name, model, tokenizer, dispose: async () => model.dispose() };
  progress({ status: 'ready', name: idOrDir, task: spec.name, model: idOrDir });
  return Object.assign(spec.call(model, tokenizer), parts) as unknown as AnyPipeline;
}

/** The weights file fromPretrained reads first, for the progress events. */
async function weightsFileIn(dir: string): Promise<string> {
  const { weightFormatsIn } = await import('../../io/weights.js');
  return weightFormatsIn(dir)[0] === 'bin' ? 'pytorch_model.bin' : 'model.safetensors';
}
