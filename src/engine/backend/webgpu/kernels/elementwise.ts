import type { GpuKernelTable } from './table.js';

export const ELEMENTWISE: Partial<GpuKernelTable> = {};
