import type { GpuKernelTable } from './table.js';

export const OPTIMIZERS: Partial<GpuKernelTable> = {};
