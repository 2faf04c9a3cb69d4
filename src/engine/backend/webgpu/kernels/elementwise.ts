import type { GpuKernelTable } from './index.js';

export const ELEMENTWISE: Partial<GpuKernelTable> = {};
