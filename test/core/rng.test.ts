import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Rng } from '../../src/index.js';

describe('Rng', () => {
  it('gives the same stream for the same seed and different streams for nearby seeds', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('draws uniform integers without bias (chi-square over 10 bins)', () => {
    const rng = new Rng(1);
    const counts = new Array(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[rng.int(10)]++;
    const chi2 = counts.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(27.9); // p = 0.001 with 9 degrees of freedom
  });

  it('draws normals with mean 0 and variance 1', () => {
    const rng = new Rng(3);
    const n = 50_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it('shuffles into a permutation and samples distinct items', () => {
    const rng = new Rng(11);
    const p = rng.permutation(100);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const s = rng.sample(p, 30);
    expect(new Set(s).size).toBe(30);
  });

  it('rejects a non-integer seed and a sample larger than the array', () => {
    expect(() => new Rng(1.5)).toThrow(InvalidArgumentError);
    expect(() => new Rng(1.5)).toThrow(/Invalid `seed` passed to `Rng`. Expected an integer. Received: 1.5./);
    expect(() => new Rng(1).sample([1, 2], 3)).toThrow(/Expected an integer in \[0, 2\]. Received: 3/);
  });
});
