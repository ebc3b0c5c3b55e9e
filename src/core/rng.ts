/**
 * Seeded randomness in plain TypeScript: the same seed gives the same shuffles, splits and samples on every
 * backend and every platform (no `Math.random`, no backend RNG).
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from PractRand), seeded through
 * splitmix32 so that nearby integer seeds give unrelated streams.
 *
 * @module
 */
import { checkInteger } from './checks.js';
import { InvalidArgumentError } from './errors.js';

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded pseudo-random generator.
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * rng.shuffle([1, 2, 3, 4]); // same order for seed 42, everywhere
 * const child = rng.fork(); // an independent stream, e.g. for one worker or one repeat
 * ```
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  /** @param seed an integer (any 32-bit value) */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isInteger(seed)) {
      throw new InvalidArgumentError('Rng', 'seed', 'an integer', seed);
    }
    const sm = splitmix32(seed);
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A float in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [0, n), without modulo bias. */
  int(n: number): number {
    checkInteger('Rng.int', 'n', n, 1, 2 ** 32);
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** A standard normal sample (Marsaglia's polar method). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const s = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * s;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return mean + std * u * f;
  }

  /** Shuffles `arr` in place (Fisher-Yates) and returns it. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** The integers 0..n-1 in a random order. */
  permutation(n: number): number[] {
    checkInteger('Rng.permutation', 'n', n, 0);
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** `k` distinct items of `arr`, in random order (partial Fisher-Yates; `arr` is not modified). */
  sample<T>(arr: readonly T[], k: number): T[] {
    checkInteger('Rng.sample', 'k', k, 0, arr.length);
    const copy = arr.slice();
    for (let i = 0; i < k; i++) {
      const j = i + this.int(copy.length - i);
      const tmp = copy[i];
      copy[i] = copy[j];
      copy[j] = tmp;
    }
    return copy.slice(0, k);
  }

  /** An integer seed for a tfjs initializer or op that takes `seed`, drawn from this stream. */
  seed(): number {
    return this.nextUint32() & 0x7fffffff;
  }

  /** An independent generator seeded from this one (for a repeat, a worker, a sub-task). */
  fork(): Rng {
    return new Rng(this.nextUint32() | 0);
  }
}
