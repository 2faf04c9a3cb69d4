import type { GpuKernelTable } from './table.js';

export const INDEXING: Partial<GpuKernelTable> = {};
