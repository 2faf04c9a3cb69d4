/** Layer 2, attention: Nyström attention and the exact attention it approximates. */
export * from './nystrom.js';
export { segmentBounds, segmentMeans, poolingMatrix } from './landmarks.js';
export * from './softmax-attention.js';
