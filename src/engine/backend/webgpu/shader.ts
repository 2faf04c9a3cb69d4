/**
 * A WGSL compute shader as the WebGPU backend runs it: named storage buffers, named scalar
 * parameters, and a body. `wgsl()` writes the declarations around the body, so each kernel file
 * states only what differs.
 *
 * Generated layout: binding 0 is a uniform block `p` with, first, one element offset per buffer
 * (`p.o_<name>`: where the BufferRef starts, in 4-byte elements, or NONE for a null buffer), then
 * the parameters in order. Bindings 1… are the buffers, all `read_write`; buffers that are views of
 * one allocation share one binding (see Shader.code), so bodies may read and write through either name. The body runs inside
 *   fn main(gid, lid, wid, nwg) { let group = <linear workgroup>; let i = group * WG + lid.x; … }
 * with the workgroups of one dispatch laid out over x and y (at most 65535 each).
 */
import type { BufferRef } from '../buffer.js';

export type ScalarType = 'u32' | 'i32' | 'f32';
/** Buffers may also be `atomic<u32>` arrays (scatter-adds: a compare-and-swap loop on f32 bits). */
type BufferType = ScalarType | 'atomic';

export interface ShaderSpec {
  /** Storage buffers: 'x' (array<f32>) or 'idx:i32' / 'bits:u32'. */
  buffers: readonly string[];
  /** Scalar parameters: 'n:u32', 'alpha:f32', … */
  params?: readonly string[];
  /** Invocations per workgroup (1-D); at most 256 (compatibility adapters allow 128: see backend). */
  workgroupSize?: number;
  /** WGSL before main: helper functions, `var<workgroup>` arrays, constants. */
  prelude?: string;
  body: string;
}

export interface Shader {
  readonly name: string;
  readonly buffers: readonly { name: string; type: BufferType }[];
  readonly params: readonly { name: string; type: ScalarType }[];
  readonly workgroupSize: number;
  /**
   * The WGSL with buffer k bound as buffer alias[k] (alias[k] ≤ k): WebGPU refuses two writable
   * bindings of one GPU buffer, so views of one allocation share a binding, declared once.
   */
  code(alias: readonly number[]): string;
}

/** Runs `shader` over `groups` workgroups with these buffers (in the shader's order) and parameters. */
export type RunShader = (shader: Shader, buffers: readonly (BufferRef | null)[], params: readonly number[], groups: number) => void;

/** The offset a null buffer gets: bodies test `p.o_bias != NONE`. */
export const NONE = 0xffffffff;

function field<T extends string>(spec: string, allowed: readonly T[]): { name: string; type: T } {
  const [name, type = allowed[0]] = spec.split(':');
  if (!allowed.includes(type as T)) throw new Error(`shader: bad type in '${spec}'`);
  return { name, type: type as T };
}

export function shader(name: string, spec: ShaderSpec): Shader {
  const buffers = spec.buffers.map((b) => field<BufferType>(b, ['f32', 'i32', 'u32', 'atomic']));
  const params = (spec.params ?? []).map((q) => field<ScalarType>(q, ['u32', 'i32', 'f32']));
  const wg = spec.workgroupSize ?? 64;
  const members = [...buffers.map((b) => `o_${b.name}: u32`), ...params.map((q) => `${q.name}: ${q.type}`)];
  const code = (alias: readonly number[]) => {
    let source = [spec.prelude ?? '', `@compute @workgroup_size(${wg})`,
      'fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(local_invocation_id) lid: vec3u,',
      '        @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {',
      '  let group = wid.x + wid.y * nwg.x;',
      '  let i = group * WG + lid.x;',
      spec.body,
      '}'].join('\n');
    buffers.forEach((b, k) => {
      const into = buffers[alias[k]];
      if (alias[k] === k) return;
      if (into.type !== b.type) throw new Error(`webgpu: ${name} got one allocation as its buffers ${into.name} (${into.type}) and ${b.name} (${b.type})`);
      // accesses are `name[…]` and `&name` (arrayLength, atomics)
      source = source.replace(new RegExp(`\\b${b.name}(?=\\s*\\[)`, 'g'), into.name).replace(new RegExp(`&${b.name}\\b`, 'g'), `&${into.name}`);
    });
    return [
      `const NONE: u32 = ${NONE}u;`,
      `const WG: u32 = ${wg}u;`,
      `struct Params { ${members.join(', ')}, }`,
      '@group(0) @binding(0) var<uniform> p: Params;',
      ...buffers.flatMap((b, k) => (alias[k] !== k ? [] : [`@group(0) @binding(${k + 1}) var<storage, read_write> ${b.name}: array<${b.type === 'atomic' ? 'atomic<u32>' : b.type}>;`])),
      source,
    ].join('\n');
  };
  return { name, buffers, params, workgroupSize: wg, code };
}
