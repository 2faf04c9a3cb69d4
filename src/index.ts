/** nystromformer: the public API. */
export * from './engine/index.js';
export * from './attention/index.js';
export * from './io/index.js';
export * from './nn/index.js';
export * from './models/index.js';
export * from './runtime/index.js';
