/**
 * The browser build without the tokenizer: every module it reaches is relative (no bare import
 * specifier) and host-neutral (no node:* module), so it loads from plain files in a page and in a
 * module Web Worker, which has no import map. index.ts adds the tokenizer.
 *
 * Models are built from a fetched config.json and loaded with `loadWeights(parseSafetensors(bytes).tensors)`;
 * fromPretrained and save read and write folders, which browsers do not have.
 */
export * from '../engine/index.js';
export * from '../attention/index.js';
export * from '../nn/index.js';
export * from '../models/index.js';
export { parseSafetensors, serializeSafetensors, toFloat32, toInt32 } from '../io/safetensors-format.js';
// LRA's paper settings (the task table without its Node loaders).
export * from '../data/lra-settings.js';
export type { RawTensor, SafetensorsFile, SafetensorsDType, TensorToWrite } from '../io/safetensors-format.js';
export { WebOnnxEncoder, webProviders } from './onnx-web.js';
export type { OrtWeb, WebOnnxOptions, WebProvider } from './onnx-web.js';
