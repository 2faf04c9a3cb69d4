/**
 * A model folder exported for onnxruntime in the layout transformers.js reads: config.json and the
 * tokenizer files copied unchanged, the graph in onnx/model.onnx, and its weights in
 * onnx/model.onnx_data when they are too big for one protobuf message.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';
import { loadModel, type AttentionOptions } from '../models/index.js';
import { onnxGraph } from './export-model.js';

/** Copied when present; config.json must be. */
const COPIED = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
/** Weights above this go to external data: protobuf stops at 2 GiB, and the graph needs room too. */
export const EXTERNAL_DATA_BYTES = 1.5e9;
export const EXTERNAL_DATA_FILE = 'model.onnx_data';

export interface ExportFolderOptions extends AttentionOptions {
  /** Export as this architecture instead of config.json's (e.g. NystromformerModel for feature extraction). */
  architecture?: string;
  /** Weights as external data at any size (default: only past EXTERNAL_DATA_BYTES). */
  externalData?: boolean;
  onWarning?: (message: string) => void;
}

export interface ExportFolderReport {
  architecture: string;
  files: string[];
  weightBytes: number;
  externalData: boolean;
}

export async function exportFolder(dir: string, out: string, options: ExportFolderOptions = {}): Promise<ExportFolderReport> {
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`${dir}: no config.json (not a Hugging Face model folder)`);
  const model = await loadModel(dir, options);
  try {
    const graph = onnxGraph(model);
    const externalData = options.externalData === true || graph.weightBytes > EXTERNAL_DATA_BYTES;
    mkdirSync(join(out, 'onnx'), { recursive: true });
    const files: string[] = [];
    const write = (name: string, bytes: Uint8Array | string) => {
      writeFileAtomicSync(join(out, name), bytes);
      files.push(name);
    };
    for (const name of COPIED) if (existsSync(join(dir, name))) write(name, readFileSync(join(dir, name)));
    if (externalData) {
      const { model: bytes, data } = graph.toModelWithExternalData(EXTERNAL_DATA_FILE);
      // data first: a model.onnx never points at a missing or stale data file
      write(join('onnx', EXTERNAL_DATA_FILE), data);
      write(join('onnx', 'model.onnx'), bytes);
    } else {
      write(join('onnx', 'model.onnx'), graph.toModel());
    }
    return { architecture: model.architecture, files, weightBytes: graph.weightBytes, externalData };
  } finally {
    model.dispose();
  }
}
