/** nystromformer: the public API. */
export * from './engine/index.js';
export * from './attention/index.js';
