/** The type of the WGSL kernel table: for each kernel, how its arguments become shader dispatches. */
import type { KernelArgs, KernelName } from '../../kernel-table.js';
import type { RunShader } from '../shader.js';

export type GpuKernel<K extends KernelName> = (args: KernelArgs<K>, run: RunShader) => void;
export type GpuKernelTable = { readonly [K in KernelName]: GpuKernel<K> };
