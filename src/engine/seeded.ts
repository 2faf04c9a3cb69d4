/**
 * A small seeded generator of uniform numbers in [0, 1) for work done in JavaScript (data
 * generation, shuffles, random features): the same seed gives the same sequence everywhere.
 * Tensors draw their random numbers in the kernels (creation.ts), not here.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state / 2 ** 32;
  };
}
