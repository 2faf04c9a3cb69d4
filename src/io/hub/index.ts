/**
 * Models by name from the Hugging Face Hub (Node only), cached in huggingface_hub's layout so that
 * Python and this library share one cache. Browsers do not import this module.
 */
export { resolveModelDir, WEIGHT_CANDIDATES, TOKENIZER_FILES } from './model-files.js';
export type { ResolveModelOptions } from './model-files.js';
export { hubFile } from './resolve-file.js';
export type { HubFile, HubFileOptions } from './resolve-file.js';
export { listCache } from './cache-list.js';
export type { CachedRepo } from './cache-list.js';
export { HubError } from './errors.js';
export type { HubErrorCode } from './errors.js';
export { isRepoId } from './repo-id.js';
export { hubCacheDir, hubEndpoint, isOffline } from './settings.js';
export type { HubOptions, ProgressEvent } from './settings.js';
export { datasetSplitFiles, PARQUET_REVISION } from './dataset-files.js';
