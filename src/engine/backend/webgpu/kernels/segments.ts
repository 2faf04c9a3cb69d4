import type { GpuKernelTable } from './table.js';

export const SEGMENTS: Partial<GpuKernelTable> = {};
