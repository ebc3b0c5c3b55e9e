import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Rng } from '../../src/index.js';
import { dustbinLogitShift, enrichedSample, remapLabels } from '../../src/internal.js';

/** Labels with class c appearing (c + 1) * 20 times, shuffled: unequal priors. */
function unevenLabels(seed: number): Int32Array {
  const l: number[] = [];
  for (let c = 0; c < 6; c++) for (let i = 0; i < (c + 1) * 20; i++) l.push(c);
  return Int32Array.from(new Rng(seed).shuffle(l));
}

describe('remapLabels', () => {
  it('maps classes[j] to j and the rest to the dustbin', () => {
    expect(Array.from(remapLabels([3, 5, 1, 8, 3], [8, 3], 10))).toEqual([1, 2, 2, 0, 1]);
  });
  it('rejects labels outside the class range', () => {
    expect(() => remapLabels([3, 10], [3], 10)).toThrow(/`labels\[1\]`.*\[0, 9\].*10/);
  });
});

describe('enrichedSample', () => {
  it('draws the configured fraction from the subset, in natural proportions within it, over seeds', () => {
    const labels = unevenLabels(1);
    const subset = [1, 4]; // 40 and 100 examples of 420
    for (const f of [0.3, 0.5, 0.8]) {
      const within: number[] = [];
      for (let seed = 0; seed < 20; seed++) {
        const s = enrichedSample(labels, subset, 6, { subsetFraction: f, size: 400, seed });
        expect(s.indices.length).toBe(400);
        const inS = Array.from(s.labels).filter((l) => l < 2).length;
        expect(inS).toBe(Math.round(f * 400));
        expect(s.sampleSubsetFraction).toBeCloseTo(Math.round(f * 400) / 400, 12);
        // Labels are the remapped labels of the drawn indices.
        const wrong = Array.from(s.indices).filter((idx, i) => {
          const want = labels[idx] === 1 ? 0 : labels[idx] === 4 ? 1 : 2;
          return s.labels[i] !== want;
        });
        expect(wrong).toEqual([]);
        within.push(Array.from(s.labels).filter((l) => l === 0).length / inS);
      }
      const mean = within.reduce((a, b) => a + b, 0) / within.length;
      expect(Math.abs(mean - 40 / 140)).toBeLessThan(0.03);
    }
  });

  it("with rest: 'all' the rest also holds subset examples at their natural rate", () => {
    const labels = unevenLabels(2);
    const natural = 140 / 420;
    const fractions: number[] = [];
    for (let seed = 0; seed < 30; seed++) {
      const s = enrichedSample(labels, [1, 4], 6, { subsetFraction: 0.5, rest: 'all', size: 300, seed });
      fractions.push(s.sampleSubsetFraction);
    }
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    expect(Math.abs(mean - (0.5 + 0.5 * natural))).toBeLessThan(0.02);
  });

  it('by default uses each subset example once and is reproducible per seed', () => {
    const labels = unevenLabels(3);
    const s = enrichedSample(labels, [2], 6, { seed: 4 });
    const subsetIdx = Array.from(s.indices).filter((i) => labels[i] === 2);
    expect(new Set(subsetIdx).size).toBe(60);
    expect(s.indices.length).toBe(120);
    expect(Array.from(enrichedSample(labels, [2], 6, { seed: 4 }).indices)).toEqual(Array.from(s.indices));
    expect(Array.from(enrichedSample(labels, [2], 6, { seed: 5 }).indices)).not.toEqual(
      Array.from(s.indices),
    );
    expect(s.naturalSubsetFraction).toBeCloseTo(60 / 420, 12);
  });

  it('rejects bad fractions, subsets without examples and out-of-range classes', () => {
    const labels = unevenLabels(1);
    expect(() => enrichedSample(labels, [1], 6, { subsetFraction: 1 })).toThrow(/subsetFraction.*\(0, 1\)/);
    expect(() => enrichedSample([0, 0, 1], [2], 6)).toThrow(/at least one example of the classes \[2\]/);
    expect(() => enrichedSample([0, 0, 1], [0, 1], 6)).toThrow(/outside the classes/);
    expect(() => enrichedSample(labels, [1, 7], 6)).toThrow(InvalidArgumentError);
  });
});

describe('dustbinLogitShift', () => {
  it('turns a model that outputs the training priors back into the natural priors', () => {
    // Natural priors over S = {a, b} and the rest; training sample enriched to 50% S.
    const pi = [0.1, 0.15, 0.75];
    const piS = pi[0] + pi[1];
    const t = [(0.5 * pi[0]) / piS, (0.5 * pi[1]) / piS, 0.5];
    const shift = dustbinLogitShift(piS, 0.5);
    // An uninformative model's output is the training prior; add the shift to the dustbin logit.
    const logits = [Math.log(t[0]), Math.log(t[1]), Math.log(t[2]) + shift];
    const z = logits.map(Math.exp).reduce((a, b) => a + b, 0);
    const corrected = logits.map((l) => Math.exp(l) / z);
    corrected.forEach((c, i) => {
      expect(c).toBeCloseTo(pi[i], 12);
    });
    expect(shift).toBeCloseTo(Math.log(0.75 / 0.5 / (0.25 / 0.5)), 12);
  });
});
