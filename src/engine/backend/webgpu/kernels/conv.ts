import type { GpuKernelTable } from './table.js';

export const CONV: Partial<GpuKernelTable> = {};
