/** Layer 1, the engine: tensors, autograd, kernels. */
export { Tensor } from './tensor.js';
export { tidy, keep } from './scope.js';
export { noGrad, parameter, isGradEnabled } from './autograd.js';
export { backward, gradients } from './backprop.js';
export { configureEngine, backend } from './engine.js';
export type { EngineOptions } from './engine.js';
export type { DType, GemmChoice, Backend, MatmulSpec } from './backend/backend.js';
export * from './ops/creation.js';
export * from './ops/shape-ops.js';
export * from './ops/unary.js';
export * from './ops/binary.js';
export * from './ops/reduce.js';
export * from './ops/matmul.js';
export * from './ops/softmax.js';
export * from './ops/indexing.js';
export * from './ops/conv.js';
export * from './ops/nn.js';
export { empty } from './ops/kernel.js';
