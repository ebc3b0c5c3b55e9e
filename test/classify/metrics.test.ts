import { describe, expect, it } from 'vitest';
import {
  accuracy,
  averagePrecision,
  confusionMatrix,
  meanAveragePrecision,
  perClassAccuracy,
} from '../../src/classify/metrics.js';
import { InvalidArgumentError, ShapeMismatchError } from '../../src/core/errors.js';

describe('metrics against hand-computed cases', () => {
  const yTrue = [0, 0, 0, 1, 1, 2, 2, 2, 2, 2];
  const yPred = [0, 1, 0, 1, 1, 2, 0, 2, 1, 2];

  it('accuracy, confusion matrix and per-class accuracy', () => {
    expect(accuracy(yTrue, yPred)).toBeCloseTo(7 / 10, 12);
    expect(confusionMatrix(yTrue, yPred, 3)).toEqual([
      [2, 1, 0],
      [0, 2, 0],
      [1, 1, 3],
    ]);
    const pc = perClassAccuracy(yTrue, yPred, 4);
    expect(pc.slice(0, 3)).toEqual([2 / 3, 1, 3 / 5]);
    expect(pc[3]).toBeNaN();
  });

  it('average precision: mean precision at the relevant ranks; ties form one threshold', () => {
    // Ranking 0.9(+) 0.8(-) 0.7(+) 0.6(-) 0.5(+): (1/1 + 2/3 + 3/5) / 3.
    expect(averagePrecision([0.5, 0.9, 0.6, 0.8, 0.7], [1, 1, 0, 0, 1])).toBeCloseTo(
      (1 + 2 / 3 + 3 / 5) / 3,
      12,
    );
    // Scores 0.9(+), then a tie at 0.5 of (+, -, -): thresholds give P=1 at R=1/2, then P=2/4 at R=1.
    expect(averagePrecision([0.9, 0.5, 0.5, 0.5], [true, false, true, false])).toBeCloseTo(
      0.5 * 1 + 0.5 * 0.5,
      12,
    );
    expect(averagePrecision([0.1, 0.2], [0, 0])).toBeNaN();
    expect(averagePrecision([3, 2, 1], [0, 0, 1])).toBeCloseTo(1 / 3, 12);
  });

  it('mAP over classes, single-label and multi-label', () => {
    const scores = [
      [0.9, 0.1, 0.3],
      [0.2, 0.8, 0.4],
      [0.6, 0.7, 0.1],
      [0.1, 0.3, 0.2],
    ];
    // Single-label [0, 1, 1, 0]: class 0 ranks 0.9(+) 0.6(-) 0.2(-) 0.1(+) -> (1 + 2/4)/2; class 1 ranks 0.8(+)
    // 0.7(+) -> 1; class 2 has no positive (left out).
    const single = meanAveragePrecision(scores, [0, 1, 1, 0]);
    expect(single.perClass[0]).toBeCloseTo(0.75, 12);
    expect(single.perClass[1]).toBeCloseTo(1, 12);
    expect(single.perClass[2]).toBeNaN();
    expect(single.map).toBeCloseTo(0.875, 12);
    const multi = meanAveragePrecision(scores, [
      [1, 0, 1],
      [0, 1, 0],
      [1, 1, 0],
      [0, 0, 1],
    ]);
    // class 0: 0.9(+) 0.6(+) -> 1; class 1: 1; class 2: 0.4(-) 0.3(+) 0.2(+) 0.1(-) -> (1/2 + 2/3)/2.
    expect(multi.perClass[2]).toBeCloseTo((1 / 2 + 2 / 3) / 2, 12);
    expect(multi.map).toBeCloseTo((1 + 1 + (1 / 2 + 2 / 3) / 2) / 3, 12);
  });

  it('rejects mismatched or invalid inputs', () => {
    expect(() => accuracy([0, 1], [0])).toThrow(ShapeMismatchError);
    expect(() => accuracy([], [])).toThrow(/at least one label/);
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/yTrue\[1\].*\[0, 2\].*Received: 3/);
    expect(() => accuracy([0.5], [0])).toThrow(InvalidArgumentError);
    expect(() => averagePrecision([Number.NaN], [1])).toThrow(/scores\[0\]/);
    expect(() => meanAveragePrecision([[1, 2]], [0, 1])).toThrow(/labels/);
  });
});
