import type { GpuKernelTable } from './index.js';

export const CONV: Partial<GpuKernelTable> = {};
