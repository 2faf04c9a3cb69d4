/** Layer 7, runtime: ONNX export of the models (run with onnxruntime). */
export { exportOnnx } from './export-model.js';
export type { ExportOptions } from './export-model.js';
export { OnnxGraph, attr, IR_VERSION, OPSET } from './onnx-graph.js';
export type { Attribute, Dim, ElemType } from './onnx-graph.js';
