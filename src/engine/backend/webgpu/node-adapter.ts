/**
 * A WebGPU adapter in Node.js, from the optional `webgpu` package (Google's Dawn, prebuilt). Dawn
 * first looks for a real GPU (Vulkan, Metal, D3D12); failing that, for OpenGL ES through EGL in
 * compatibility mode, which on a machine without a GPU is Mesa's llvmpipe: slow, but complete
 * enough to test every kernel.
 */
import { createRequire } from 'node:module';
import type { GpuAdapterResult } from '../host.js';

const require = createRequire(import.meta.url);
/** Dawn's instances, kept alive: one collected under a live device crashes the process (its event pump outlives it). */
const instances: GPU[] = [];

interface Dawn {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

export async function nodeGpuAdapter(): Promise<GpuAdapterResult> {
  let dawn: Dawn;
  try {
    dawn = require('webgpu') as Dawn;
  } catch (e) {
    return { missing: `WebGPU in Node.js needs the optional package 'webgpu' (npm install webgpu): ${(e as Error).message.split('\n')[0]}` };
  }
  // GPUBufferUsage, GPUMapMode, … are globals in browsers; Dawn hands them over.
  for (const [name, value] of Object.entries(dawn.globals)) (globalThis as Record<string, unknown>)[name] ??= value;
  const instance = (flags: string[]) => {
    const gpu = dawn.create(flags);
    instances.push(gpu);
    return gpu;
  };
  const gpu = await instance([]).requestAdapter({ powerPreference: 'high-performance' });
  if (gpu) return { adapter: gpu };
  process.env.EGL_PLATFORM ??= 'surfaceless'; // EGL without a display
  const gles = await instance(['backend=opengles']).requestAdapter({ featureLevel: 'compatibility' });
  if (gles) return { adapter: gles };
  return { missing: 'WebGPU: Dawn found no GPU (Vulkan, Metal, D3D12) and no OpenGL ES device (on Linux without a GPU, install Mesa: libegl-mesa0 and libgles2)' };
}
