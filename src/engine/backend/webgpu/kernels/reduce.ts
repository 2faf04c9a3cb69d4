import type { GpuKernelTable } from './table.js';

export const REDUCE: Partial<GpuKernelTable> = {};
