import type { GpuKernelTable } from './index.js';

export const SEGMENTS: Partial<GpuKernelTable> = {};
