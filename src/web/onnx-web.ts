/**
 * runtime 'onnx' in browsers: a model exported in the page (exportOnnx, no file system) or ONNX
 * bytes fetched from a folder that `nystromformer export` wrote, run on onnxruntime-web — WebGPU
 * when the browser gives an adapter, else WebAssembly, multi-threaded on a cross-origin isolated
 * page (COOP/COEP, as `nystromformer serve` sends them), single-threaded otherwise.
 *
 * onnxruntime-web is passed in, not imported: a page loads it as it likes (an import map, a CDN, a
 * bundler) and this file stays free of bare imports, like the rest of the browser build.
 *
 *   import * as ort from 'onnxruntime-web';
 *   const encoder = await WebOnnxEncoder.create(ort, model);   // or the bytes of onnx/model.onnx
 *   const { last_hidden_state } = await encoder.run(ids, [1, ids.length]);
 */
import type { Env, InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import type { NystromformerPreTrainedModel } from '../models/index.js';
import { exportOnnx, type ExportOptions } from '../runtime/export-model.js';

/** What this file needs of onnxruntime-web's module namespace. */
export interface OrtWeb {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => OrtTensor;
  env: Env;
}

export type WebProvider = 'webgpu' | 'wasm';

export interface WebOnnxOptions extends ExportOptions {
  /** Providers to try in order (default: webgpu where an adapter exists, then wasm). */
  providers?: WebProvider[];
  /** WebAssembly threads (default: the logical cores on an isolated page, else 1); set before the first session. */
  threads?: number;
  /** Where onnxruntime-web's .wasm files are (default: next to its module). */
  wasmPaths?: string;
}

interface Gpu { requestAdapter(): Promise<unknown> }

/** ['webgpu', 'wasm'] where the browser hands out a WebGPU adapter, else ['wasm']. */
export async function webProviders(): Promise<WebProvider[]> {
  const gpu = (globalThis as { navigator?: { gpu?: Gpu } }).navigator?.gpu;
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  return adapter ? ['webgpu', 'wasm'] : ['wasm'];
}

export class WebOnnxEncoder {
  readonly #ort: OrtWeb;

  private constructor(
    readonly session: InferenceSession,
    /** The provider the session runs on. */
    readonly provider: WebProvider,
    ort: OrtWeb,
  ) {
    this.#ort = ort;
  }

  /** Exports `model` (or takes ONNX bytes) and opens a session on the first provider that accepts it. */
  static async create(ort: OrtWeb, model: NystromformerPreTrainedModel | Uint8Array, options: WebOnnxOptions = {}): Promise<WebOnnxEncoder> {
    const bytes = model instanceof Uint8Array ? model : exportOnnx(model, options);
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
    const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
    ort.env.wasm.numThreads = isolated ? options.threads ?? cores : 1; // threads need SharedArrayBuffer
    if (options.wasmPaths) ort.env.wasm.wasmPaths = options.wasmPaths;
    const providers = options.providers ?? (await webProviders());
    const failures: string[] = [];
    for (const provider of providers) {
      try {
        const session = await ort.InferenceSession.create(bytes, { executionProviders: [provider], graphOptimizationLevel: 'all' });
        return new WebOnnxEncoder(session, provider, ort);
      } catch (e) {
        failures.push(`${provider}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    throw new Error(`onnxruntime-web: no provider could open the model (${failures.join('; ')})`);
  }

  /**
   * Runs on token ids (row-major, `dims` = [batch, sequence]); attention mask 1 and token type 0
   * where not given. float32 outputs by name (last_hidden_state, or the head's logits).
   */
  async run(
    inputIds: ArrayLike<number>, dims: readonly number[], extra: { attentionMask?: ArrayLike<number>; tokenTypeIds?: ArrayLike<number> } = {},
  ): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
    const size = dims.reduce((a, b) => a * b, 1);
    if (inputIds.length !== size) throw new Error(`WebOnnxEncoder.run: ${inputIds.length} ids for dims [${dims.join(', ')}]`);
    const int64 = (values: ArrayLike<number> | undefined, fill: number) => (values
      ? BigInt64Array.from(Array.from(values), (v) => BigInt(Math.round(v)))
      : new BigInt64Array(size).fill(BigInt(fill)));
    const all: Record<string, BigInt64Array> = {
      input_ids: int64(inputIds, 0), attention_mask: int64(extra.attentionMask, 1), token_type_ids: int64(extra.tokenTypeIds, 0),
    };
    const feeds: Record<string, OrtTensor> = {};
    for (const name of this.session.inputNames) {
      if (!all[name]) throw new Error(`WebOnnxEncoder.run: the graph wants an input '${name}' this runner does not know`);
      feeds[name] = new this.#ort.Tensor('int64', all[name], dims);
    }
    const results = await this.session.run(feeds);
    const out: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const [name, t] of Object.entries(results)) {
      // from the GPU (webgpu) or a copy out of the WebAssembly heap
      out[name] = { data: Float32Array.from((await t.getData()) as Float32Array), dims: [...t.dims] };
      t.dispose();
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
