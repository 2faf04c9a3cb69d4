// AssemblyScript kernels, compiled to WebAssembly (see scripts/build-kernels.mjs).
// Conventions: pointers are byte offsets into the shared arena; a parallel kernel takes
// (tid, nt) first and does only its share of the work, partitioned so that results never
// depend on nt (no reduction is ever split across threads).
export { heapBase } from './memory';
export * from './gemm';
export * from './elementwise';
export * from './reduce';
export * from './indexing';
export * from './conv';
export * from './random';
export * from './layout';
export * from './flash-attention';
export * from './segments';
export * from './optimizers';
export * from './quantized';
export * from './layer-norm';
