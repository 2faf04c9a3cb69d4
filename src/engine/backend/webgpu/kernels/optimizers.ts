import type { GpuKernelTable } from './index.js';

export const OPTIMIZERS: Partial<GpuKernelTable> = {};
