/** Hugging Face's activation names (ACT2FN) for the ones Nyströmformer configs use. */
import { gelu, geluTanh, relu, sigmoid, tanh, Tensor } from '../engine/index.js';
import { lookup } from '../io/lookup.js';

export const ACTIVATIONS: Readonly<Record<string, (x: Tensor) => Tensor>> = Object.freeze({
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu_fast: geluTanh,
  gelu,
  gelu_python: gelu,
  relu,
  tanh,
  sigmoid,
});

export function activation(name: string): (x: Tensor) => Tensor {
  return lookup(ACTIVATIONS, name, 'activation');
}
