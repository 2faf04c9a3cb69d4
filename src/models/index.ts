/** Layer 3b, models. */
export * from './nystromformer/index.js';
export * from './pipelines/index.js';
export * from './lra/index.js';
