/**
 * The WebGPU backend: storage buffers from a size-class pool, kernels as WGSL compute shaders
 * (./kernels), dispatches recorded into one command encoder and submitted only when the host
 * needs the queue (a read, a write, or a full parameter block). Reads are asynchronous: the
 * contract's `read`, never `readSync`.
 */
import { noSyncRead, type Backend, type BufferRef, type DType, type Handle, type LinearQ8Spec, type MatmulSpec, type TypedArrayFor } from '../backend.js';
import { linearQ8Kernels } from '../linear-q8.js';
import type { KernelArgs, KernelName } from '../kernel-table.js';
import { platform } from '../platform.js';
import { GPU_KERNELS, encodeMatmul } from './kernels/index.js';
import { NONE, type RunShader, type Shader } from './shader.js';

/** One dispatch's parameters occupy a slot of this many bytes (the uniform offset alignment). */
const SLOT = 256;
const SLOTS = 256;


interface Allocation {
  buffer: GPUBuffer;
  bytes: number;
}

export interface WebGpuBackendOptions {
  /** An adapter to use instead of the platform's (navigator.gpu, or Dawn in Node). */
  adapter?: GPUAdapter;
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly threads = 1;
  readonly canReadSync = false;
  readonly device: GPUDevice;
  /** What the adapter says it is (vendor, architecture, description), for logs and benchmarks. */
  readonly adapterName: string;
  readonly #buffers = new Map<number, Allocation>();
  readonly #pool = new Map<number, GPUBuffer[]>();
  readonly #pipelines = new Map<Shader, Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>>();
  readonly #params: GPUBuffer;
  readonly #staging = new ArrayBuffer(SLOT * SLOTS);
  /** Stand-ins for null buffers, one per binding slot (one GPU buffer bound twice would alias). */
  readonly #dummies: GPUBuffer[] = [];
  #nextHandle = 1;
  #slots = 0;
  #encoder: GPUCommandEncoder | undefined;
  #pass: GPUComputePassEncoder | undefined;
  #inUse = 0;
  #peak = 0;
  #error: Error | undefined;
  #closed = false;
  /** Dispatches recorded since the backend started (for tests and tuning). */
  dispatches = 0;

  /** A backend on the platform's adapter; throws with what is missing where there is none. */
  static async create(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    let adapter = options.adapter;
    if (!adapter) {
      const found = await platform.gpuAdapter();
      if ('missing' in found) throw new Error(found.missing);
      adapter = found.adapter;
    }
    // The adapter's own limits: compatibility-mode defaults (4 storage buffers) are too few.
    const l = adapter.limits;
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeInvocationsPerWorkgroup: Math.min(256, l.maxComputeInvocationsPerWorkgroup),
        maxComputeWorkgroupSizeX: Math.min(256, l.maxComputeWorkgroupSizeX),
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      },
    });
    const info = adapter.info;
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter';
    return new WebGpuBackend(device, name);
  }

  private constructor(device: GPUDevice, adapterName: string) {
    this.device = device;
    this.adapterName = adapterName;
    device.addEventListener('uncapturederror', (e) => {
      this.#error ??= new Error(`webgpu: ${(e as GPUUncapturedErrorEvent).error.message}`);
    });
    void device.lost.then((info) => {
      if (!this.#closed) this.#error ??= new Error(`webgpu: the device was lost (${info.reason}): ${info.message}`);
    });
    this.#params = device.createBuffer({ size: SLOT * SLOTS, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  get bytesInUse(): number {
    return this.#inUse;
  }

  get peakBytes(): number {
    return this.#peak;
  }

  resetPeak(): void {
    this.#peak = this.#inUse;
  }

  allocate(bytes: number): Handle {
    const size = sizeClass(bytes);
    const buffer = this.#pool.get(size)?.pop() ?? this.#createBuffer(size);
    const handle = this.#nextHandle++;
    this.#buffers.set(handle, { buffer, bytes: size });
    this.#inUse += size;
    this.#peak = Math.max(this.#peak, this.#inUse);
    return handle as Handle;
  }

  free(handle: Handle): void {
    const a = this.#buffers.get(handle);
    if (!a) throw new Error(`webgpu: free of unknown handle ${handle}`);
    this.#buffers.delete(handle);
    this.#inUse -= a.bytes;
    // Reuse is safe: later commands that write it are queued after the ones that read it.
    let list = this.#pool.get(a.bytes);
    if (!list) this.#pool.set(a.bytes, (list = []));
    list.push(a.buffer);
  }

  #createBuffer(size: number): GPUBuffer {
    if (size > this.device.limits.maxStorageBufferBindingSize) {
      throw new Error(`webgpu: a ${size}-byte tensor exceeds this device's largest storage binding (${this.device.limits.maxStorageBufferBindingSize} bytes)`);
    }
    return this.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  }

  #resolve(ref: BufferRef): GPUBuffer {
    const a = this.#buffers.get(ref.handle);
    if (!a) throw new Error(`webgpu: unknown or freed handle ${ref.handle}`);
    return a.buffer;
  }

  async read<D extends DType>(src: BufferRef, length: number, dtype: D): Promise<TypedArrayFor<D>> {
    this.#throwPending();
    const bytes = length * 4;
    const out = dtype === 'float32' ? new Float32Array(length) : new Int32Array(length);
    if (length === 0) return out as TypedArrayFor<D>;
    const staging = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.#takeEncoder();
    encoder.copyBufferToBuffer(this.#resolve(src), src.byteOffset, staging, 0, bytes);
    this.#submit(encoder);
    try {
      await staging.mapAsync(GPUMapMode.READ);
      new Uint8Array(out.buffer).set(new Uint8Array(staging.getMappedRange()));
    } finally {
      staging.destroy();
    }
    this.#throwPending();
    return out as TypedArrayFor<D>;
  }

  readSync(): never {
    throw noSyncRead(this.name);
  }

  write(dst: BufferRef, data: Float32Array | Int32Array): void {
    // writeBuffer runs before commands still unsubmitted: submit them first.
    this.flush();
    this.device.queue.writeBuffer(this.#resolve(dst), dst.byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  dispatch<K extends KernelName>(kernel: K, args: KernelArgs<K>, _work: number): void {
    const encode = GPU_KERNELS[kernel] as ((a: KernelArgs<K>, run: RunShader) => void) | undefined;
    if (!encode) throw new Error(`webgpu: the kernel '${kernel}' has no WGSL version yet`);
    encode(args, this.#run);
  }

  matmul(spec: MatmulSpec): void {
    encodeMatmul(spec, this.#run);
  }

  linearQ8(spec: LinearQ8Spec): void {
    linearQ8Kernels(this, spec);
  }

  readonly #run: RunShader = (shader, buffers, params, groups) => {
    if (groups <= 0) return;
    if (this.#slots === SLOTS) this.flush();
    // buffer k shares the binding of the first buffer in the same allocation
    const alias = buffers.map((ref, k) => (ref ? buffers.findIndex((r) => r?.handle === ref.handle) : k));
    const { pipeline, layout } = this.#pipeline(shader, alias);
    const slot = this.#slots++;
    const u32 = new Uint32Array(this.#staging, slot * SLOT, SLOT / 4);
    const f32 = new Float32Array(this.#staging, slot * SLOT, SLOT / 4);
    const i32 = new Int32Array(this.#staging, slot * SLOT, SLOT / 4);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.#params, offset: slot * SLOT, size: SLOT } }];
    buffers.forEach((ref, k) => {
      u32[k] = ref ? ref.byteOffset / 4 : NONE;
      if (alias[k] === k) entries.push({ binding: k + 1, resource: { buffer: ref ? this.#resolve(ref) : this.#dummy(k) } });
    });
    if (params.length !== shader.params.length) throw new Error(`webgpu: ${shader.name} takes ${shader.params.length} parameters, got ${params.length}`);
    shader.params.forEach(({ type }, k) => {
      const at = buffers.length + k;
      if (type === 'f32') f32[at] = params[k];
      else if (type === 'i32') i32[at] = params[k];
      else u32[at] = params[k];
    });
    this.#pass ??= (this.#encoder ??= this.device.createCommandEncoder()).beginComputePass();
    this.#pass.setPipeline(pipeline);
    this.#pass.setBindGroup(0, this.device.createBindGroup({ layout, entries }));
    const x = Math.min(groups, 65535);
    this.#pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    this.dispatches++;
  };

  #pipeline(shader: Shader, alias: readonly number[]) {
    let variants = this.#pipelines.get(shader);
    if (!variants) this.#pipelines.set(shader, (variants = new Map()));
    const key = alias.join();
    let p = variants.get(key);
    if (!p) {
      const layout = this.device.createBindGroupLayout({
        entries: [
          { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
          ...shader.buffers.flatMap((_, k) => (alias[k] !== k ? [] : [{ binding: k + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' as const } }])),
        ],
      });
      const module = this.device.createShaderModule({ label: shader.name, code: shader.code(alias) });
      const pipeline = this.device.createComputePipeline({
        label: shader.name,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main' },
      });
      variants.set(key, (p = { pipeline, layout }));
    }
    return p;
  }

  #dummy(slot: number): GPUBuffer {
    return (this.#dummies[slot] ??= this.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE }));
  }

  /** The encoder with every recorded dispatch, its compute pass closed. */
  #takeEncoder(): GPUCommandEncoder {
    this.#pass?.end();
    this.#pass = undefined;
    const encoder = this.#encoder ?? this.device.createCommandEncoder();
    this.#encoder = undefined;
    return encoder;
  }

  #submit(encoder: GPUCommandEncoder): void {
    if (this.#slots > 0) this.device.queue.writeBuffer(this.#params, 0, this.#staging, 0, this.#slots * SLOT);
    this.#slots = 0;
    this.device.queue.submit([encoder.finish()]);
  }

  /** Submits what is recorded (reads and writes do this themselves). */
  flush(): void {
    if (this.#encoder) this.#submit(this.#takeEncoder());
  }

  /** Resolves once the GPU has run everything submitted so far (benchmarks time with it). */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.#throwPending();
  }

  #throwPending(): void {
    const e = this.#error;
    if (e) {
      this.#error = undefined;
      throw e;
    }
  }

  close(): void {
    this.#closed = true;
    this.flush();
    for (const list of this.#pool.values()) for (const b of list) b.destroy();
    for (const a of this.#buffers.values()) a.buffer.destroy();
    for (const d of this.#dummies) d?.destroy();
    this.#pool.clear();
    this.#buffers.clear();
    this.device.destroy();
  }
}

/** Buffer sizes by class: 4 per octave above 256 bytes, so reuse wastes at most a quarter. */
export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 4) * 4);
  const step = 2 ** Math.max(6, Math.floor(Math.log2(b)) - 2);
  return Math.ceil(b / step) * step;
}
