/**
 * Input checks that read data back to the host (mask values, finiteness) stall a device queue, so
 * they do not run per op on the hot path: a model checks its batch once at its boundary and runs
 * its layers inside `checkedBoundary`, where ops skip them. An op called directly still checks.
 * Debug mode (`configureEngine({ debugChecks: true })` or NYSTROMFORMER_DEBUG_CHECKS=1) runs them
 * per op everywhere, to find the first op that sees a bad value.
 */
import { platform } from './backend/platform.js';

let debug: boolean | undefined;
let boundaryDepth = 0;

export function debugChecks(): boolean {
  return (debug ??= platform.env('NYSTROMFORMER_DEBUG_CHECKS') === '1');
}

export function setDebugChecks(on: boolean): void {
  debug = on;
}

/** Whether an op should run its host-reading input checks here. */
export function perOpChecks(): boolean {
  return boundaryDepth === 0 || debugChecks();
}

/** Runs fn, whose inputs the caller has checked, with per-op host-reading checks off (unless debugging). */
export function checkedBoundary<T>(fn: () => T): T {
  boundaryDepth++;
  try {
    return fn();
  } finally {
    boundaryDepth--;
  }
}
