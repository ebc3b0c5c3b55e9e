import { describe, expect, it } from 'vitest';
import { clusterClasses, InvalidArgumentError, Rng } from '../../src/index.js';
import {
  columnSilhouette,
  confusionAffinity,
  covarianceToCorrelation,
  kMeansColumns,
  predictionCovariance,
  validateClusters,
} from '../../src/internal.js';
import { expectClose } from '../helpers.js';

/** Rows of probabilities from a generalist that confuses the classes inside each planted block. */
function plantedPredictions(blocks: number[][], numClasses: number, rows: number, seed: number) {
  const rng = new Rng(seed);
  const probs = new Float64Array(rows * numClasses);
  const labels = new Int32Array(rows);
  const blockOf = new Array<number[]>(numClasses);
  for (const b of blocks) for (const c of b) blockOf[c] = b;
  for (let r = 0; r < rows; r++) {
    const y = rng.int(numClasses);
    labels[r] = y;
    const block = blockOf[y];
    // Mass 0.9 spread at random over the true class's block, 0.1 uniform noise.
    const w = block.map(() => rng.uniform(0.2, 1));
    const s = w.reduce((a, b) => a + b, 0);
    for (let c = 0; c < numClasses; c++) probs[r * numClasses + c] = 0.1 / numClasses;
    block.forEach((c, i) => {
      probs[r * numClasses + c] += (0.9 * w[i]) / s;
    });
  }
  return { probs, labels };
}

const sortSets = (sets: number[][]) =>
  sets.map((s) => [...s].sort((a, b) => a - b)).sort((a, b) => a[0] - b[0]);

describe('predictionCovariance', () => {
  it('matches E[xy] - E[x]E[y] computed directly', () => {
    const rng = new Rng(3);
    const n = 50;
    const k = 4;
    const p = Array.from({ length: n * k }, () => rng.next());
    const cov = predictionCovariance(p, k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        let exy = 0;
        let ex = 0;
        let ey = 0;
        for (let r = 0; r < n; r++) {
          exy += p[r * k + i] * p[r * k + j];
          ex += p[r * k + i];
          ey += p[r * k + j];
        }
        expect(cov[i][j]).toBeCloseTo(exy / n - (ex / n) * (ey / n), 10);
      }
    }
    const corr = covarianceToCorrelation(cov);
    expectClose(
      corr.map((row, i) => row[i]),
      [1, 1, 1, 1],
      1e-12,
    );
    expect(corr[0][1]).toBeCloseTo(cov[0][1] / Math.sqrt(cov[0][0] * cov[1][1]), 12);
  });

  it('rejects a flat array whose length is not a multiple of numClasses', () => {
    expect(() => predictionCovariance([0.5, 0.5, 1], 2)).toThrow(InvalidArgumentError);
    expect(() => predictionCovariance([0.5, 0.5, 1], 2)).toThrow(/multiple of numClasses \(2\)/);
  });
});

describe('kMeansColumns', () => {
  it('recovers planted blocks of a synthetic covariance matrix', () => {
    const blocks = [[0, 3, 7], [1, 5], [2, 4, 6, 8], [9]];
    const n = 10;
    const rng = new Rng(11);
    const m: number[][] = [];
    for (let i = 0; i < n; i++) m.push(new Array<number>(n).fill(0));
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        const same = blocks.some((b) => b.includes(i) && b.includes(j));
        const v = (i === j ? 1 : same ? 0.6 : -0.05) + rng.uniform(-0.05, 0.05);
        m[i][j] = v;
        m[j][i] = v;
      }
    }
    const { assignment } = kMeansColumns(m, 4, { seed: 2 });
    const found: number[][] = [[], [], [], []];
    assignment.forEach((a, c) => {
      found[a].push(c);
    });
    expect(sortSets(found)).toEqual(sortSets(blocks));
    // The same seed gives the same partition.
    expect(kMeansColumns(m, 4, { seed: 2 }).assignment).toEqual(assignment);
  });

  it('computes the silhouette of a hand-worked partition', () => {
    // Columns are points on a line: 0, 1 | 10.
    const m = [[0, 1, 10]];
    // point 0: a = 1, b = 10 -> 0.9; point 1: a = 1, b = 9 -> 8/9; point 2: singleton -> 0.
    expect(columnSilhouette(m, [0, 0, 1])).toBeCloseTo((0.9 + 8 / 9) / 3, 12);
  });
});

describe('clusterClasses', () => {
  const blocks = [[0, 4], [1, 6, 8], [2, 9], [3], [5], [7]];

  it('finds the confusable groups from predictions (covariance, k searched)', () => {
    const { probs } = plantedPredictions(blocks, 10, 2000, 5);
    const found = clusterClasses(probs, 10, { k: { min: 2, max: 8 }, seed: 1 });
    expect(found.method).toBe('covariance');
    expect(found.k).toBe(6);
    expect(found.search?.length).toBe(7);
    expect(sortSets(found.clusters.map((c) => c.classes))).toEqual(sortSets(blocks));
    // Multi-class clusters are confusable (positive correlation), singletons score 0, sorted most confusable first.
    for (const c of found.clusters) {
      if (c.classes.length > 1) expect(c.score).toBeGreaterThan(0.2);
      else expect(c.score).toBe(0);
    }
    const scores = found.clusters.map((c) => c.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    found.clusters.forEach((c, i) => {
      for (const cls of c.classes) expect(found.assignment[cls]).toBe(i);
    });
    expect(found.matrix.length).toBe(10);
  });

  it('finds the same groups from the confusion matrix', () => {
    const { probs, labels } = plantedPredictions(blocks, 10, 3000, 6);
    const found = clusterClasses(probs, 10, { method: 'confusion', labels, k: { min: 2, max: 8 }, seed: 1 });
    expect(found.k).toBe(6);
    expect(sortSets(found.clusters.map((c) => c.classes))).toEqual(sortSets(blocks));
  });

  it('rejects a confusion clustering without labels and a bad k', () => {
    const { probs } = plantedPredictions(blocks, 10, 100, 1);
    expect(() => clusterClasses(probs, 10, { method: 'confusion' })).toThrow(/`labels`/);
    expect(() => clusterClasses(probs, 10, { k: 11 })).toThrow(/`options.k`.*\[1, 10\].*11/);
    expect(() => clusterClasses(probs, 10, { method: 'spectral' as 'confusion' })).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('confusionAffinity', () => {
  it('symmetrises the row-normalised confusion matrix', () => {
    // 3 classes; true 0 -> predicted 0, 0, 1, 1; true 1 -> 1, 1; true 2 -> 2.
    const probs = [0.9, 0.1, 0, 0.8, 0.2, 0, 0.1, 0.9, 0, 0.3, 0.7, 0, 0, 1, 0, 0.2, 0.8, 0, 0, 0, 1];
    const labels = [0, 0, 0, 0, 1, 1, 2];
    const a = confusionAffinity(probs, labels, 3);
    expect(a[0][0]).toBeCloseTo(0.5);
    expect(a[0][1]).toBeCloseTo(0.25);
    expect(a[1][0]).toBeCloseTo(0.25);
    expect(a[1][1]).toBeCloseTo(1);
    expect(a[2][2]).toBeCloseTo(1);
    expect(a[0][2]).toBe(0);
  });
});

describe('validateClusters', () => {
  it('accepts valid sets in the order given (column j is classes[j]), overlapping by default', () => {
    expect(
      validateClusters(
        'f',
        [
          [5, 3],
          [3, 4],
        ],
        10,
      ),
    ).toEqual([
      [5, 3],
      [3, 4],
    ]);
  });

  it('rejects empty, out-of-range, repeated, all-covering and (when disallowed) overlapping sets', () => {
    expect(() => validateClusters('f', [[1, 2], []], 10)).toThrow(/`clusters\[1\]`.*non-empty/);
    expect(() => validateClusters('f', [], 10)).toThrow(/non-empty array/);
    expect(() => validateClusters('f', [[1, 12]], 10)).toThrow(/\[0, 9\] \(the generalist has 10 classes\)/);
    expect(() => validateClusters('f', [[1, 1]], 10)).toThrow(/1 repeats/);
    expect(() => validateClusters('f', [[0, 1, 2]], 3)).toThrow(/dustbin/);
    expect(() =>
      validateClusters(
        'f',
        [
          [1, 2],
          [2, 3],
        ],
        10,
        { allowOverlap: false },
      ),
    ).toThrow(/class 2 is also in clusters\[0\]/);
  });
});
