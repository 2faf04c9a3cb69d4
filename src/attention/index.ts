/** Layer 2, attention: Nyström attention and the exact attention it approximates. */
export * from './nystrom.js';
export { segmentBounds, segmentMeans, poolingMatrix, poolingWeights } from './landmarks.js';
export * from './softmax-attention.js';
export { assertFinite, canCheckValues, checkMaskValues } from './validate.js';
export { linformerAttention } from './linformer.js';
export type { LinformerOptions } from './linformer.js';
export { performerAttention, orthogonalRandomFeatures } from './performer.js';
export type { PerformerOptions } from './performer.js';
