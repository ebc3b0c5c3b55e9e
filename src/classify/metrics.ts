/**
 * Classification metrics in plain TypeScript over numbers: accuracy, per-class accuracy (recall), confusion
 * matrix, average precision and mean average precision (the measure of Pascal VOC that Razavian et al. 2014 and
 * Oquab et al. 2014 report).
 *
 * @module
 */
import { checkInteger } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';

function checkLabels(fn: string, argument: string, y: ArrayLike<number>, numClasses?: number): void {
  if (y === null || typeof y !== 'object' || typeof y.length !== 'number') {
    throw new InvalidArgumentError(fn, argument, 'an array of integer labels', y);
  }
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (!Number.isInteger(v) || v < 0 || (numClasses !== undefined && v >= numClasses)) {
      throw new InvalidArgumentError(
        fn,
        `${argument}[${i}]`,
        numClasses !== undefined ? `an integer label in [0, ${numClasses - 1}]` : 'an integer label >= 0',
        v,
      );
    }
  }
}

function checkPair(
  fn: string,
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  numClasses?: number,
): void {
  checkLabels(fn, 'yTrue', yTrue, numClasses);
  checkLabels(fn, 'yPred', yPred, numClasses);
  if (yTrue.length !== yPred.length) {
    throw new ShapeMismatchError(fn, 'yPred', `${yTrue.length} predictions (one per label)`, [yPred.length]);
  }
  if (yTrue.length === 0) throw new InvalidArgumentError(fn, 'yTrue', 'at least one label', '0 labels');
}

/**
 * Fraction of predictions equal to the labels.
 *
 * @example
 * ```ts
 * accuracy([0, 1, 2, 2], [0, 2, 2, 2]); // 0.75
 * ```
 */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkPair('accuracy', yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / yTrue.length;
}

/**
 * Confusion matrix `m[true][predicted]` (counts).
 *
 * @example
 * ```ts
 * confusionMatrix([0, 1, 1], [0, 0, 1], 2); // [[1, 0], [1, 1]]
 * ```
 */
export function confusionMatrix(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  numClasses: number,
): number[][] {
  checkInteger(
    'confusionMatrix',
    'numClasses',
    numClasses,
    1,
    Math.floor(Math.sqrt(LIMITS.maxConfusionCells)),
  );
  checkPair('confusionMatrix', yTrue, yPred, numClasses);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

/**
 * Accuracy within each class (recall: correct / examples of that class); `NaN` for a class without examples.
 * Its mean over classes is the "mean class accuracy" of Caltech-101 / MIT-67 style benchmarks.
 *
 * @example
 * ```ts
 * perClassAccuracy([0, 0, 1, 1], [0, 1, 1, 1], 2); // [0.5, 1]
 * ```
 */
export function perClassAccuracy(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  numClasses: number,
): number[] {
  const m = confusionMatrix(yTrue, yPred, numClasses);
  return m.map((row, k) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n === 0 ? Number.NaN : row[k] / n;
  });
}

/**
 * Average precision of a ranking: scores of N items and which of them are relevant. Non-interpolated AP,
 * AP = sum_n (R_n - R_{n-1}) P_n over the distinct score thresholds in decreasing order (tied scores form one
 * threshold, as in scikit-learn); without ties this is the mean of the precision at each relevant item's rank.
 * Returns `NaN` when no item is relevant.
 *
 * @example
 * ```ts
 * averagePrecision([0.9, 0.8, 0.7], [true, false, true]); // (1/1 + 2/3) / 2 = 0.8333
 * ```
 */
export function averagePrecision(scores: ArrayLike<number>, relevant: ArrayLike<boolean | number>): number {
  if (scores.length !== relevant.length) {
    throw new ShapeMismatchError('averagePrecision', 'relevant', `${scores.length} flags (one per score)`, [
      relevant.length,
    ]);
  }
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]))
      throw new InvalidArgumentError('averagePrecision', `scores[${i}]`, 'a finite number', scores[i]);
  }
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (let i = 0; i < relevant.length; i++) if (relevant[i]) positives++;
  if (positives === 0) return Number.NaN;
  let tp = 0;
  let seen = 0;
  let prevRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < order.length) {
    const s = scores[order[i]];
    while (i < order.length && scores[order[i]] === s) {
      if (relevant[order[i]]) tp++;
      seen++;
      i++;
    }
    const recall = tp / positives;
    ap += (recall - prevRecall) * (tp / seen);
    prevRecall = recall;
  }
  return ap;
}

/**
 * Mean average precision over classes: `scores[i][k]` for item i and class k, `labels` either one integer class per
 * item (single-label) or a 0/1 row per item (multi-label). Classes without any positive are left out of the mean
 * (their AP is `NaN` in `perClass`).
 *
 * @example
 * ```ts
 * const { map, perClass } = meanAveragePrecision([[0.9, 0.1], [0.2, 0.8]], [0, 1]); // map 1
 * ```
 */
export function meanAveragePrecision(
  scores: ArrayLike<ArrayLike<number>>,
  labels: ArrayLike<number> | ArrayLike<ArrayLike<number | boolean>>,
): {
  /** Mean of the per-class APs over the classes that have a positive (`NaN` if none has). */
  map: number;
  /** Average precision of each class, indexed by class (`NaN` for a class without any positive). */
  perClass: number[];
} {
  const n = scores.length;
  if (n === 0) throw new InvalidArgumentError('meanAveragePrecision', 'scores', 'at least one row', '0 rows');
  if (labels.length !== n) {
    throw new ShapeMismatchError('meanAveragePrecision', 'labels', `${n} labels (one per row of scores)`, [
      labels.length,
    ]);
  }
  const k = scores[0].length;
  for (let i = 0; i < n; i++) {
    if (scores[i].length !== k)
      throw new ShapeMismatchError('meanAveragePrecision', `scores[${i}]`, `a row of ${k} scores`, [
        scores[i].length,
      ]);
  }
  const multi = typeof labels[0] === 'object';
  if (!multi) checkLabels('meanAveragePrecision', 'labels', labels as ArrayLike<number>, k);
  const perClass: number[] = [];
  for (let c = 0; k > c; c++) {
    const col = new Array<number>(n);
    const rel = new Array<boolean>(n);
    for (let i = 0; i < n; i++) {
      col[i] = scores[i][c];
      const li = labels[i] as number | ArrayLike<number | boolean>;
      rel[i] = multi ? Boolean((li as ArrayLike<number | boolean>)[c]) : li === c;
    }
    perClass.push(averagePrecision(col, rel));
  }
  const valid = perClass.filter((v) => !Number.isNaN(v));
  return { map: valid.length === 0 ? Number.NaN : valid.reduce((a, b) => a + b, 0) / valid.length, perClass };
}
