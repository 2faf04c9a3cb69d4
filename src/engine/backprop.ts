/**
 * Backpropagation over the graph that `record` builds: `gradients` (vector-Jacobian products
 * from any outputs) and `backward` (accumulate into the leaves' `.grad`).
 */
import { noGrad } from './autograd.js';
import { add } from './ops/binary.js';
import { onesLike, zerosLike } from './ops/creation.js';
import { keep, tidy } from './scope.js';
import { fmt, sameShape } from './shape.js';
import { Tensor } from './tensor.js';

/**
 * Vector-Jacobian products: d(Σ outputs·cotangents)/d(inputs). Cotangents default to ones for
 * scalar outputs. Returns one gradient per input (zeros where an input does not affect outputs).
 */
export function gradients(outputs: readonly Tensor[], inputs: readonly Tensor[], cotangents?: readonly Tensor[]): Tensor[] {
  return tidy(() => {
    const grads = propagate(outputs, cotangents, new Set(inputs));
    return inputs.map((x) => grads.get(x) ?? zerosLike(x));
  });
}

/** Accumulates d(output·cotangent)/d(leaf) into `.grad` of every leaf that requires it. */
export function backward(output: Tensor, cotangent?: Tensor): void {
  tidy(() => noGrad(() => {
    const grads = propagate([output], cotangent ? [cotangent] : undefined, undefined);
    for (const [leaf, g] of grads) {
      if (leaf.node || !leaf.requiresGrad) continue;
      if (leaf.grad) {
        const sum = add(leaf.grad, g);
        leaf.grad.dispose();
        leaf.grad = keep(sum);
      } else leaf.grad = keep(g);
    }
  }));
}

/** Runs the graph backwards; returns gradients of leaves (and of `wanted`, if given). */
function propagate(outputs: readonly Tensor[], cotangents: readonly Tensor[] | undefined, wanted: Set<Tensor> | undefined): Map<Tensor, Tensor> {
  const grads = new Map<Tensor, Tensor>();
  outputs.forEach((y, i) => {
    if (!y.requiresGrad) throw new Error(`backward: output ${i} (${fmt(y.shape)}) does not depend on any tensor that requires grad`);
    const c = cotangents?.[i];
    if (c) {
      if (!sameShape(c.shape, y.shape)) throw new Error(`backward: cotangent ${fmt(c.shape)} does not match output ${fmt(y.shape)}`);
      accumulate(grads, y, c.view(c.shape, c.strides));
    } else {
      if (y.size !== 1) throw new Error(`backward: output of shape ${fmt(y.shape)} is not a scalar; pass a cotangent`);
      accumulate(grads, y, onesLike(y));
    }
  });
  const order = topoOrder(outputs);
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const node = t.node;
      const g = grads.get(t);
      if (!node || !g) continue;
      const handedOut = new Set<Tensor>();
      let inGrads: readonly (Tensor | null)[];
      try {
        inGrads = node.backward(g);
      } catch (e) {
        throw new Error(`backward of ${node.op}: ${(e as Error).message}`, { cause: e });
      }
      node.inputs.forEach((x, j) => {
        const gx = inGrads[j];
        if (!gx || !x.requiresGrad) return;
        if (!sameShape(gx.shape, x.shape)) {
          throw new Error(`backward of ${node.op}: gradient ${fmt(gx.shape)} for input ${j} of shape ${fmt(x.shape)}`);
        }
        // A backward may hand dy (or one tensor) to several inputs: give each its own view.
        accumulate(grads, x, gx === g || handedOut.has(gx) ? gx.view(gx.shape, gx.strides) : gx);
        handedOut.add(gx);
      });
      if (!wanted?.has(t)) {
        grads.delete(t);
        g.dispose();
      }
    }
  });
  return grads;
}

function accumulate(grads: Map<Tensor, Tensor>, x: Tensor, g: Tensor): void {
  const prev = grads.get(x);
  if (!prev) {
    grads.set(x, g);
    return;
  }
  grads.set(x, add(prev, g));
  prev.dispose();
  g.dispose();
}

function topoOrder(outputs: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: graphs of deep models overflow the call stack recursively.
  const stack: [Tensor, number][] = outputs.map((t) => [t, 0]);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    if (i === 0) {
      if (seen.has(t)) {
        stack.pop();
        continue;
      }
      seen.add(t);
    }
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      if (inputs[i].requiresGrad && !seen.has(inputs[i])) stack.push([inputs[i], 0]);
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

