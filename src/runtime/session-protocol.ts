/** Messages between SyncOnnxSession (sync-session.ts) and its worker (session-worker.ts). */
import type { MessagePort } from 'node:worker_threads';

/** A tensor crossing the thread boundary: int64 inputs, float32 outputs. */
export interface WireTensor<D extends BigInt64Array | Float32Array> { data: D; dims: number[] }

/** onnxruntime session options a caller may set (graph optimisation defaults to 'all'). */
export interface OnnxSessionOptions {
  /** Threads inside one operator (onnxruntime's default, 0, picks the physical cores). */
  intraOpNumThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** onnxruntime-node execution providers in order of preference, e.g. ['cuda', 'cpu'] (default ['cpu']). */
  executionProviders?: string[];
}

export type SessionRequest =
  | { kind: 'create'; model: Uint8Array; options?: OnnxSessionOptions }
  | { kind: 'run'; feeds: Record<string, WireTensor<BigInt64Array>> }
  | { kind: 'close' };

/** A failed request is not a reply: its error comes back through the channel. */
export interface SessionReply {
  inputNames?: string[];
  outputNames?: string[];
  outputs?: Record<string, WireTensor<Float32Array>>;
  runMs?: number;
}

export interface SessionWorkerData {
  /** Requests and replies travel on the port (structured data); the SyncChannel on `control` says when. */
  port: MessagePort;
  control: SharedArrayBuffer;
}
