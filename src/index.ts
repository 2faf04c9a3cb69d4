/** nystromformer: the public API. */
export * from './engine/index.js';
