// Tensors, an op graph and its gradient: the engine on its own.
// Run from the repository root after `npm ci`: node examples/engine-basics.mjs
import { backward, matmul, mean, parameter, randn, relu, square, tidy } from 'nystromformer';

const w = parameter(randn([64, 64], 1, 0, 0.1)); // a trainable leaf: it outlives every scope
const x = randn([8, 64], 2);
// backward() needs the intermediates, so it runs inside the scope that frees them afterwards
const loss = tidy(() => {
  const l = mean(square(relu(matmul(x, w))));
  backward(l); // w.grad = dloss/dw
  return l.item();
});
console.log(`loss ${loss.toFixed(6)}, gradient of shape [${w.grad.shape}], |grad|max ${Math.max(...w.grad.toArray().map(Math.abs)).toExponential(3)}`);
