/** nystromformer: the public API. */
export * from './engine/index.js';
export * from './attention/index.js';
export * from './io/index.js';
export * from './nn/index.js';
export * from './models/index.js';
export * from './runtime/index.js';
// Node only (reads files), so not in models/index.ts, which the browser build reaches.
export { loadLraRun, readLraConfig, writeLraConfig, lraWeightsPath, LRA_MODEL_TYPE } from './models/lra/run.js';
// Node only (the file system and the cache): models and tokenizers by Hub id, the cache listing.
export { resolveModelDir, hubFile, listCache, HubError, isRepoId, hubCacheDir, hubEndpoint, isOffline, WEIGHT_CANDIDATES, TOKENIZER_FILES } from './io/hub/index.js';
export type { ResolveModelOptions, HubFile, HubFileOptions, CachedRepo, HubErrorCode, HubOptions, ProgressEvent as HubProgressEvent } from './io/hub/index.js';
