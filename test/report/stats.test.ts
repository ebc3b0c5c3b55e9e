import { describe, expect, it } from 'vitest';
import {
  bootstrapInterval,
  formatInterval,
  mean,
  pairedInterval,
  sampleSd,
  studentTCdf,
  studentTQuantile,
  tInterval,
  verdict,
} from '../../src/report/stats.js';

describe('report statistics', () => {
  it('Student t quantiles match the published table (two-sided 95% and 99%)', () => {
    const table: [number, number, number][] = [
      // df, t_0.975, t_0.995
      [1, 12.7062, 63.6567],
      [2, 4.3027, 9.9248],
      [3, 3.1824, 5.8409],
      [4, 2.7764, 4.6041],
      [5, 2.5706, 4.0321],
      [10, 2.2281, 3.1693],
      [30, 2.0423, 2.75],
      [1000, 1.9623, 2.5808],
    ];
    for (const [df, t95, t99] of table) {
      expect(studentTQuantile(0.975, df)).toBeCloseTo(t95, 3);
      expect(studentTQuantile(0.995, df)).toBeCloseTo(t99, 3);
      expect(studentTQuantile(0.025, df)).toBeCloseTo(-t95, 3);
    }
  });

  it('the t CDF has the closed forms of df = 1 (Cauchy) and df = 2', () => {
    for (const t of [-3, -0.5, 0, 0.7, 2, 10]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 10);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 10);
    }
  });

  it('mean, sd and the t interval follow the closed form', () => {
    const xs = [0.52, 0.55, 0.52];
    expect(mean(xs)).toBeCloseTo(0.53, 12);
    expect(sampleSd(xs)).toBeCloseTo(Math.sqrt((0.0001 + 0.0004 + 0.0001) / 2), 12);
    const iv = tInterval(xs);
    const half = (4.302652729911275 * sampleSd(xs)) / Math.sqrt(3);
    expect(iv.lo).toBeCloseTo(0.53 - half, 8);
    expect(iv.hi).toBeCloseTo(0.53 + half, 8);
    expect(iv.n).toBe(3);
    expect(() => tInterval([1])).toThrow(RangeError);
    expect(() => tInterval([1, Number.NaN])).toThrow(RangeError);
  });

  it('the paired interval is the t interval of the differences, and cancels a shared seed effect', () => {
    const a = [0.9, 0.8, 0.85, 0.7];
    const b = [0.88, 0.79, 0.83, 0.69];
    const p = pairedInterval(a, b);
    const d = tInterval([0.02, 0.01, 0.02, 0.01]);
    expect(p.lo).toBeCloseTo(d.lo, 12);
    expect(p.hi).toBeCloseTo(d.hi, 12);
    expect(verdict(p, 0)).toBe('holds'); // every pair is better, though the arms overlap
    expect(verdict(tInterval(a), mean(b))).toBe('inconclusive');
    expect(() => pairedInterval([1, 2], [1, 2, 3])).toThrow(RangeError);
  });

  it('the bootstrap is seeded and matches the normal approximation on many values', () => {
    // 0/1 outcomes: the mean's sd is sqrt(p(1-p)/n).
    const xs = Array.from({ length: 400 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const a = bootstrapInterval(xs, { seed: 3 });
    const b = bootstrapInterval(xs, { seed: 3 });
    expect(a).toEqual(b);
    const se = Math.sqrt((0.25 * 0.75) / 400);
    expect(a.estimate).toBe(0.25);
    expect(a.lo).toBeGreaterThan(0.25 - 1.96 * se - 0.01);
    expect(a.lo).toBeLessThan(0.25 - 1.96 * se + 0.01);
    expect(a.hi).toBeGreaterThan(0.25 + 1.96 * se - 0.01);
    expect(a.hi).toBeLessThan(0.25 + 1.96 * se + 0.01);
    const med = bootstrapInterval([1, 2, 3, 100], {
      seed: 1,
      statistic: (v) => [...v].sort((x, y) => x - y)[1],
    });
    expect(med.hi).toBeLessThanOrEqual(100);
  });

  it('verdicts read from the interval against the threshold, in both directions', () => {
    const iv = (lo: number, hi: number) => ({ estimate: (lo + hi) / 2, lo, hi, n: 3, level: 0.95 });
    expect(verdict(iv(0.1, 0.3), 0)).toBe('holds');
    expect(verdict(iv(-0.3, -0.1), 0)).toBe('does not hold');
    expect(verdict(iv(-0.1, 0.3), 0)).toBe('inconclusive');
    expect(verdict(iv(0.1, 0.3), 0.5, 'below')).toBe('holds');
    expect(verdict(iv(0.6, 0.7), 0.5, 'below')).toBe('does not hold');
    expect(formatInterval(iv(0.1, 0.3), { scale: 100, unit: '%', signed: true })).toBe(
      '+20.0% [+10.0, +30.0] (95% CI, n = 3)',
    );
  });
});
