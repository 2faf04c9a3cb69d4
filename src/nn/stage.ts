import { isGradEnabled, tidy } from '../engine/index.js';

/**
 * Runs one stage of a model. Outside autograd (under noGrad) its intermediates are freed as soon
 * as it returns, which bounds inference memory by the largest stage rather than the whole model;
 * while recording they must live until backward, so nothing is freed.
 */
export function stage<T>(fn: () => T): T {
  return isGradEnabled() ? fn() : tidy(fn);
}

/** Frees tensors that no later stage needs, when nothing is being recorded. */
export function release(...tensors: { dispose(): void }[]): void {
  if (!isGradEnabled()) for (const t of tensors) t.dispose();
}
