/** Layer 3a, nn: modules and the seed stream. */
export { Module, ModuleList, assignParameter } from './module.js';
export { Linear, Embedding, LayerNorm, Dropout, DepthwiseConv, type WeightInit, type InitOptions } from './layers.js';
export { manualSeed, seedState, nextSeed } from './random.js';
export { stage, release } from './stage.js';
export { moduleTensors, loadModuleTensors, checkModuleTensors } from './state.js';
export { quantize, weightDType, checkWeightDType, q8Tensors, loadQ8Tensors, WEIGHT_DTYPES, type WeightDType } from './quantize.js';
