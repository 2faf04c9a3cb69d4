import type { GpuKernelTable } from './table.js';

export const RANDOM: Partial<GpuKernelTable> = {};
