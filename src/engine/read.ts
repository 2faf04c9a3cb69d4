/** The result of a computation, read back on any backend (a GPU reads only asynchronously). */
import { noGrad } from './autograd.js';
import type { DType, TypedArrayFor } from './backend/backend.js';
import { tidy } from './scope.js';
import type { Tensor } from './tensor.js';

/** Runs fn without gradients in a tidy scope, reads the tensor it returns (views included) and frees it. */
export async function readResult(fn: () => Tensor): Promise<TypedArrayFor<DType>> {
  const t = noGrad(() => tidy(fn));
  try {
    return await t.read();
  } finally {
    t.dispose();
  }
}
