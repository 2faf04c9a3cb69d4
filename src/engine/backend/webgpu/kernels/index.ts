/**
 * Every kernel of the table (../../kernel-table.ts) as WGSL: what `WebGpuBackend.dispatch` runs.
 * Each entry turns the kernel's arguments into one or more shader dispatches.
 */
import type { GpuKernelTable } from './table.js';
import { ELEMENTWISE } from './elementwise.js';
import { RANDOM } from './random.js';
import { REDUCE } from './reduce.js';
import { INDEXING } from './indexing.js';
import { CONV } from './conv.js';
import { SEGMENTS } from './segments.js';
import { ATTENTION } from './attention.js';
import { OPTIMIZERS } from './optimizers.js';
import { GEMM } from './gemm.js';
import { QUANTIZED } from './quantized.js';
import { LAYER_NORM } from './layer-norm.js';

export type { GpuKernel, GpuKernelTable } from './table.js';

export { encodeMatmul } from './gemm.js';

export const GPU_KERNELS: Partial<GpuKernelTable> = {
  ...ELEMENTWISE, ...RANDOM, ...REDUCE, ...INDEXING, ...CONV, ...SEGMENTS, ...ATTENTION, ...OPTIMIZERS, ...GEMM, ...QUANTIZED, ...LAYER_NORM,
};
