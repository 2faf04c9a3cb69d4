/** A seeded PRNG for tests; host-neutral (no node:* import), so browser pages use it too. */
import { nd, type NDArray } from './reference.js';

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(low = -1, high = 1): number {
    return low + (high - low) * this.next();
  }
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** An array of float32-representable values uniform in [low, high). */
  array(shape: readonly number[], low = -1, high = 1): NDArray {
    return nd(shape, () => Math.fround(this.uniform(low, high)));
  }
  /** An array of float32-representable standard normal values. */
  randn(shape: readonly number[]): NDArray {
    return nd(shape, () => Math.fround(this.normal()));
  }
  ints(shape: readonly number[], n: number): NDArray {
    return nd(shape, () => this.int(n));
  }
}
