/**
 * A model folder exported for onnxruntime in the layout transformers.js reads: the tokenizer files
 * copied unchanged, config.json as transformers.js needs it (exported-config.ts), the graph in
 * onnx/model.onnx, and its weights in onnx/model.onnx_data when they are too big for one protobuf
 * message. A head model's graph also outputs last_hidden_state, which transformers.js's
 * feature-extraction reads before logits. An LRA run folder (its config.json says model_type
 * 'lra-classifier') exports its trained classifier the same way, config.json copied unchanged.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';
import { makeDir } from '../io/make-dir.js';
import { loadModel, type AttentionOptions } from '../models/index.js';
import { isLraConfigJSON, loadLraRun } from '../models/lra/run.js';
import { exportedConfig } from './exported-config.js';
import { lraOnnxGraph } from './export-lra.js';
import { onnxGraph } from './export-model.js';
import type { OnnxGraph } from './onnx-graph.js';

/** Copied when present. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
/** Weights above this go to external data: protobuf stops at 2 GiB, and the graph needs room too. */
export const EXTERNAL_DATA_BYTES = 1.5e9;
export const EXTERNAL_DATA_FILE = 'model.onnx_data';

export interface ExportFolderOptions extends AttentionOptions {
  /** Export as this architecture instead of config.json's (e.g. NystromformerModel for feature extraction). */
  architecture?: string;
  /** Weights as external data at any size (default: only past EXTERNAL_DATA_BYTES). */
  externalData?: boolean;
  /** A head model's graph also outputs last_hidden_state, for transformers.js's feature-extraction (default true). */
  lastHiddenState?: boolean;
  onWarning?: (message: string) => void;
}

export interface ExportFolderReport {
  architecture: string;
  files: string[];
  weightBytes: number;
  externalData: boolean;
  /** The graph's outputs, in order. */
  outputs: string[];
}

export async function exportFolder(dir: string, out: string, options: ExportFolderOptions = {}): Promise<ExportFolderReport> {
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`${dir}: no config.json (not a Hugging Face model folder)`);
  if (isLraRun(dir)) return exportLraFolder(dir, out, options);
  const model = await loadModel(dir, options);
  try {
    const graph = onnxGraph(model, { lastHiddenState: options.lastHiddenState ?? true });
    const externalData = usesExternalData(graph, options);
    const config = exportedConfig(readFileSync(join(dir, 'config.json'), 'utf8'), model, externalData);
    return { architecture: model.architecture, ...writeOnnxFolder(dir, out, graph, externalData, { 'config.json': config }, TOKENIZER_FILES) };
  } finally {
    model.dispose();
  }
}

/** True when DIR/config.json parses and names an LRA classifier (a malformed one is the HF loader's to report). */
function isLraRun(dir: string): boolean {
  try {
    return isLraConfigJSON(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  } catch {
    return false;
  }
}

/** An LRA run folder (models/lra/run.ts): its trained classifier as onnx/model.onnx, config.json copied. */
function exportLraFolder(dir: string, out: string, options: ExportFolderOptions): ExportFolderReport {
  const hfOnly = (['attention', 'numLandmarks', 'pinvInit', 'pinvIterations', 'architecture'] as const).filter((key) => options[key] !== undefined);
  if (hfOnly.length > 0) {
    throw new Error(`${join(dir, 'config.json')}: an LRA run exports its own attention; ${hfOnly.join(', ')} apply to Hugging Face folders only`);
  }
  const model = loadLraRun(dir);
  try {
    const graph = lraOnnxGraph(model);
    return { architecture: 'LraClassifier', ...writeOnnxFolder(dir, out, graph, usesExternalData(graph, options), {}, ['config.json']) };
  } finally {
    model.dispose();
  }
}

const usesExternalData = (graph: OnnxGraph, options: ExportFolderOptions) => options.externalData === true || graph.weightBytes > EXTERNAL_DATA_BYTES;

/** Writes `written`, copies the `copied` files that exist, writes the graph (and its external data when asked). */
function writeOnnxFolder(
  dir: string, out: string, graph: OnnxGraph, externalData: boolean, written: Record<string, string>, copied: readonly string[],
): Omit<ExportFolderReport, 'architecture'> {
  makeDir(join(out, 'onnx'));
  const files: string[] = [];
  const write = (name: string, bytes: Uint8Array | string) => {
    writeFileAtomicSync(join(out, name), bytes);
    files.push(name);
  };
  for (const [name, text] of Object.entries(written)) write(name, text);
  for (const name of copied) if (existsSync(join(dir, name))) write(name, readFileSync(join(dir, name)));
  if (externalData) {
    const { model: bytes, data } = graph.toModelWithExternalData(EXTERNAL_DATA_FILE);
    // data first: a model.onnx never points at a missing or stale data file
    write(join('onnx', EXTERNAL_DATA_FILE), data);
    write(join('onnx', 'model.onnx'), bytes);
  } else {
    write(join('onnx', 'model.onnx'), graph.toModel());
  }
  return { files, weightBytes: graph.weightBytes, externalData, outputs: graph.outputNames };
}
