import type { MatmulSpec } from '../../backend.js';
import type { RunShader } from '../shader.js';
import type { GpuKernelTable } from './table.js';

export function encodeMatmul(_spec: MatmulSpec, _run: RunShader): void {
  throw new Error('webgpu: matmul not yet written');
}

export const GEMM: Partial<GpuKernelTable> = {};
