/** nystromformer: the public API. */
import { provideOnnxRuntime } from './runtime/index.js';

export * from './engine/index.js';
export * from './attention/index.js';
export * from './io/index.js';
export * from './nn/index.js';
export * from './models/index.js';
export * from './runtime/index.js';
// Node only (files, checkpoints): datasets and the training loop.
export * from './data/index.js';
export * from './train/index.js';
// Node only (reads files), so not in models/index.ts, which the browser build reaches.
export { loadLraRun, readLraConfig, writeLraConfig, lraWeightsPath, LRA_MODEL_TYPE } from './models/lra/run.js';
// Node only (reads model folders), so not in models/pipelines/index.ts, which the browser build reaches.
export { pipeline } from './models/pipelines/pipeline.js';
export type { PipelineOptions, PipelineProgress, TaskName, AnyPipeline } from './models/pipelines/pipeline.js';
export type {
  PipelineParts, FillMaskPipeline, FillMaskCallOptions, TextClassificationPipeline, ClassificationInput,
  TextClassificationCallOptions, FeatureExtractionPipeline, FeatureExtractionCallOptions,
} from './models/pipelines/pipeline-tasks.js';
// Node only (the file system and the cache): models and tokenizers by Hub id, the cache listing.
export { resolveModelDir, hubFile, datasetSplitFiles, listCache, HubError, isRepoId, hubCacheDir, hubEndpoint, isOffline, WEIGHT_CANDIDATES, TOKENIZER_FILES } from './io/hub/index.js';
export type { ResolveModelOptions, HubFile, HubFileOptions, CachedRepo, HubErrorCode, HubOptions, ProgressEvent as HubProgressEvent } from './io/hub/index.js';

// The Node entry has onnxruntime-node: fromPretrained({ runtime: 'onnx' }) works here (not in the browser build).
provideOnnxRuntime();
