import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, stratifiedSplit } from '../../src/index.js';
import { batchIndices } from '../../src/internal.js';

const labels = Array.from({ length: 300 }, (_, i) => i % 3); // 100 per class

describe('stratifiedSplit', () => {
  it('gives the same split for the same seed and a different one for another seed', () => {
    const a = stratifiedSplit(labels, { seed: 7, testFraction: 0.3 });
    const b = stratifiedSplit(labels, { seed: 7, testFraction: 0.3 });
    const c = stratifiedSplit(labels, { seed: 8, testFraction: 0.3 });
    expect(a).toEqual(b);
    expect(a.testIndices).not.toEqual(c.testIndices);
  });

  it('keeps class proportions in both parts and never puts an item in both', () => {
    const s = stratifiedSplit(labels, { seed: 1, testFraction: 0.25 });
    const count = (ls: number[], c: number) => ls.filter((l) => l === c).length;
    for (const c of [0, 1, 2]) {
      expect(count(s.testLabels, c)).toBe(25);
      expect(count(s.trainLabels, c)).toBe(75);
    }
    const all = new Set([...s.trainIndices, ...s.testIndices]);
    expect(all.size).toBe(300);
    s.trainIndices.forEach((idx, i) => {
      expect(labels[idx]).toBe(s.trainLabels[i]);
    });
  });

  it('subsets and relabels classes in the given order, and limits items per class', () => {
    const s = stratifiedSplit(labels, { seed: 2, classes: [2, 0], relabel: true, limitPerClass: 10 });
    expect(s.classes).toEqual([2, 0]);
    expect(s.trainIndices.length + s.testIndices.length).toBe(20);
    s.trainIndices.forEach((idx, i) => {
      expect(s.trainLabels[i]).toBe(labels[idx] === 2 ? 0 : 1);
    });
    expect(new Set(s.testLabels)).toEqual(new Set([0, 1]));
  });

  it('rejects bad input with a message naming the argument', () => {
    expect(() => stratifiedSplit(labels, { seed: 1, testFraction: 1 })).toThrow(/testFraction/);
    expect(() => stratifiedSplit(labels, { seed: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => stratifiedSplit(labels, { seed: 1, classes: [5] })).toThrow(
      /options.classes.*Received: \[5\]/,
    );
    expect(() => stratifiedSplit([0, 0.5], { seed: 1 })).toThrow(/labels\[1\]/);
    expect(() => stratifiedSplit(labels, { seed: 1, classes: [1, 1] })).toThrow(/distinct/);
  });
});

describe('batchIndices', () => {
  it('covers 0..n-1 once, in order without a seed and shuffled (reproducibly) with one', () => {
    expect(batchIndices(5, 2)).toEqual([[0, 1], [2, 3], [4]]);
    const a = batchIndices(10, 3, { seed: 4 });
    expect(a).toEqual(batchIndices(10, 3, { seed: 4 }));
    expect(a.flat().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batchIndices(10, 3, { seed: 4, dropRemainder: true })).toHaveLength(3);
    expect(() => batchIndices(10, 0)).toThrow(/batchSize/);
  });
});
