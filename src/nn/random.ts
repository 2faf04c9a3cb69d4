/**
 * One seed stream for parameter initialisation and dropout masks, so that a run is reproducible
 * from a single seed and its state fits in a checkpoint (a 32-bit integer).
 */
let state = 0x2545f491;

/** Restarts the stream: the same seed gives the same initial weights and dropout masks. */
export function manualSeed(seed: number): void {
  state = seed >>> 0;
}

/** The stream's position, to save in a checkpoint and restore with manualSeed. */
export function seedState(): number {
  return state;
}

/** The next seed (a linear congruential step; the kernels hash it into random numbers). */
export function nextSeed(): number {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state;
}
