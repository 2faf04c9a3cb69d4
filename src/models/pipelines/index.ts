/** Task pipelines over the Nyströmformer models: fill-mask, classification, embeddings. */
export { fillMask, asCandidate } from './fill-mask.js';
export type { FillMaskResult, FillMaskCandidate } from './fill-mask.js';
export { classify } from './classify.js';
export type { ClassifyResult } from './classify.js';
export { embed, cosineSimilarity } from './embed.js';
export type { EmbedOptions } from './embed.js';
export type { EncodeOptions } from './encode.js';
