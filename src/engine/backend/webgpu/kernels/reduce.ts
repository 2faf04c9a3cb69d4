import type { GpuKernelTable } from './index.js';

export const REDUCE: Partial<GpuKernelTable> = {};
