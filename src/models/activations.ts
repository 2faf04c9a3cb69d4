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

/** Activations whose backward keeps no reference to their input (gelu keeps its slope): a layer may free the input once applied. */
export const FREES_INPUT: ReadonlySet<(x: Tensor) => Tensor> = new Set([gelu]);

export function activation(name: string): (x: Tensor) => Tensor {
  return lookup(ACTIVATIONS, name, 'activation');
}
