import type { GpuKernelTable } from './index.js';

export const RANDOM: Partial<GpuKernelTable> = {};
