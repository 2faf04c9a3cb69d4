import type { GpuKernelTable } from './index.js';

export const INDEXING: Partial<GpuKernelTable> = {};
