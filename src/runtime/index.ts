/** Layer 7, runtime: ONNX export of the models (run with onnxruntime). */
export { exportOnnx, onnxGraph } from './export-model.js';
export type { ExportOptions } from './export-model.js';
export { exportLraOnnx, lraOnnxGraph } from './export-lra.js';
export { OnnxGraph, attr, IR_VERSION, OPSET } from './onnx-graph.js';
export type { Attribute, Dim, ElemType } from './onnx-graph.js';
export { exportFolder, EXTERNAL_DATA_BYTES, EXTERNAL_DATA_FILE } from './export-folder.js';
export type { ExportFolderOptions, ExportFolderReport } from './export-folder.js';
export { setRuntime, runtimeOf, provideOnnxRuntime } from './onnx-model.js';
export { SyncOnnxSession } from './sync-session.js';
export type { OnnxSessionOptions } from './session-protocol.js';
