import type { GpuKernelTable } from './table.js';

export const ATTENTION: Partial<GpuKernelTable> = {};
