/**
 * A model folder exported for onnxruntime in the layout transformers.js reads: the tokenizer files
 * copied unchanged, config.json as transformers.js needs it (exported-config.ts), the graph in
 * onnx/model.onnx, and its weights in onnx/model.onnx_data when they are too big for one protobuf
 * message. A head model's graph also outputs last_hidden_state, which transformers.js's
 * feature-extraction reads before logits. With dtype 'q8' the 8-bit graph goes to
 * onnx/model_quantized.onnx beside it (a folder saved 8-bit has only that one). An LRA run folder (its config.json says model_type
 * 'lra-classifier') exports its trained classifier the same way, config.json copied unchanged.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';
import { makeDir } from '../io/make-dir.js';
import { loadModel, type AttentionOptions } from '../models/index.js';
import { checkWeightDType, quantize, weightDType, type WeightDType } from '../nn/index.js';
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
  /** 'q8': also write onnx/model_quantized.onnx, every Linear layer 8-bit (quantize()). */
  dtype?: WeightDType;
  onWarning?: (message: string) => void;
}

export interface ExportFolderReport {
  architecture: string;
  files: string[];
  weightBytes: number;
  /** Bytes of onnx/model_quantized.onnx's weights, where it was written. */
  quantizedWeightBytes?: number;
  externalData: boolean;
  /** The graph's outputs, in order. */
  outputs: string[];
}

export async function exportFolder(dir: string, out: string, options: ExportFolderOptions = {}): Promise<ExportFolderReport> {
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`${dir}: no config.json (not a Hugging Face model folder)`);
  checkWeightDType(options.dtype);
  if (isLraRun(dir)) return exportLraFolder(dir, out, options);
  const model = await loadModel(dir, { ...options, dtype: undefined });
  try {
    const lastHiddenState = options.lastHiddenState ?? true;
    const saved8Bit = weightDType(model) === 'q8';
    if (saved8Bit && options.dtype === 'fp32') throw new Error(`${dir} holds 8-bit weights: it exports as onnx/model_quantized.onnx only (dtype 'q8')`);
    const graphs: NamedGraph[] = [];
    if (!saved8Bit) graphs.push({ file: 'model', graph: onnxGraph(model, { lastHiddenState }) });
    if (saved8Bit || options.dtype === 'q8') {
      await quantize(model);
      graphs.push({ file: 'model_quantized', graph: onnxGraph(model, { lastHiddenState }) });
    }
    const externalData = usesExternalData(graphs[0].graph, options);
    const dtype = graphs.length > 1 || saved8Bit ? 'q8' : 'fp32';
    const config = exportedConfig(readFileSync(join(dir, 'config.json'), 'utf8'), model, externalData, dtype);
    const report = writeOnnxFolder(dir, out, graphs, externalData, { 'config.json': config }, TOKENIZER_FILES);
    const quantized = graphs.find((g) => g.file === 'model_quantized');
    return { architecture: model.architecture, ...report, ...(quantized && { quantizedWeightBytes: quantized.graph.weightBytes }) };
  } finally {
    model.dispose();
  }
}

/** A graph and the file (in onnx/, without .onnx) it goes to. */
interface NamedGraph {
  file: 'model' | 'model_quantized';
  graph: OnnxGraph;
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
    if (options.dtype === 'q8') throw new Error(`${dir}: an LRA run exports in float32 only`);
    const graph = lraOnnxGraph(model);
    return { architecture: 'LraClassifier', ...writeOnnxFolder(dir, out, [{ file: 'model', graph }], usesExternalData(graph, options), {}, ['config.json']) };
  } finally {
    model.dispose();
  }
}

const usesExternalData = (graph: OnnxGraph, options: ExportFolderOptions) => options.externalData === true || graph.weightBytes > EXTERNAL_DATA_BYTES;

/** Writes `written`, copies the `copied` files that exist, writes the graphs (the first one's weights as external data when asked). */
function writeOnnxFolder(
  dir: string, out: string, graphs: readonly NamedGraph[], externalData: boolean, written: Record<string, string>, copied: readonly string[],
): Omit<ExportFolderReport, 'architecture'> {
  makeDir(join(out, 'onnx'));
  const files: string[] = [];
  const write = (name: string, bytes: Uint8Array | string) => {
    writeFileAtomicSync(join(out, name), bytes);
    files.push(name);
  };
  for (const [name, text] of Object.entries(written)) write(name, text);
  for (const name of copied) if (existsSync(join(dir, name))) write(name, readFileSync(join(dir, name)));
  graphs.forEach(({ file, graph }, i) => {
    if (i === 0 && externalData) {
      const { model: bytes, data } = graph.toModelWithExternalData(`${file}.onnx_data`);
      // data first: a model file never points at a missing or stale data file
      write(join('onnx', `${file}.onnx_data`), data);
      write(join('onnx', `${file}.onnx`), bytes);
    } else {
      write(join('onnx', `${file}.onnx`), graph.toModel());
    }
  });
  return { files, weightBytes: graphs[0].graph.weightBytes, externalData, outputs: graphs[0].graph.outputNames };
}
