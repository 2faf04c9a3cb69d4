/** Layer io: file formats (safetensors, PyTorch pickles, model folders) and tokenizers. */
export { parseSafetensors, serializeSafetensors, readSafetensors, readSafetensorsSync, writeSafetensorsSync, toFloat32, toInt32 } from './safetensors.js';
export type { RawTensor, SafetensorsFile, SafetensorsDType, TensorToWrite } from './safetensors.js';
export { parseTorchCheckpoint, readTorchCheckpoint } from './pytorch.js';
export { readWeights, weightFormatsIn } from './weights.js';
export type { WeightsFormat, CheckpointWeights } from './weights.js';
export { decodePng, encodeGrayPng, grayLevel, toGray } from './png.js';
export type { PngImage } from './png.js';
export { Tokenizer } from './tokenizer.js';
export type { Encoding, BatchEncoding, EncodeOptions as TokenizerEncodeOptions } from './tokenizer.js';
