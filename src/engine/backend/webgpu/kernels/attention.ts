import type { GpuKernelTable } from './index.js';

export const ATTENTION: Partial<GpuKernelTable> = {};
