/**
 * The class-affinity matrices of Hinton et al. (2015, section 5.3) for clustering confusable classes: the covariance
 * of the generalist's predictions (and its correlation), and a symmetric confusion affinity. Plain TypeScript.
 *
 * @module
 */
import { checkInteger } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';

export function checkProbs(fn: string, probs: ArrayLike<number>, numClasses: number): number {
  checkInteger(fn, 'numClasses', numClasses, 2);
  if (
    probs === null ||
    typeof probs !== 'object' ||
    typeof (probs as ArrayLike<number>).length !== 'number' ||
    probs.length === 0 ||
    probs.length % numClasses !== 0
  ) {
    throw new InvalidArgumentError(
      fn,
      'probabilities',
      `a non-empty flat row-major array whose length is a multiple of numClasses (${numClasses})`,
      probs,
    );
  }
  return probs.length / numClasses;
}

/**
 * The covariance matrix of predicted probabilities over held-out rows: `C[i][j] = mean_n (p_ni - mean_i)(p_nj -
 * mean_j)` (population covariance). Classes that are often predicted together co-vary positively.
 *
 * @param probabilities row-major `[rows, numClasses]` predicted probabilities (e.g. `await probs.data()`)
 * @example
 * ```ts
 * const p = await generalist.predict(xHeldOut).data();
 * const cov = predictionCovariance(p, 10); // 10 x 10
 * ```
 */
export function predictionCovariance(probabilities: ArrayLike<number>, numClasses: number): number[][] {
  const n = checkProbs('predictionCovariance', probabilities, numClasses);
  const k = numClasses;
  const mean = new Float64Array(k);
  for (let r = 0; r < n; r++) for (let i = 0; i < k; i++) mean[i] += probabilities[r * k + i];
  for (let i = 0; i < k; i++) mean[i] /= n;
  const acc = new Float64Array(k * k);
  const d = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < k; i++) d[i] = probabilities[r * k + i] - mean[i];
    for (let i = 0; i < k; i++) {
      const di = d[i];
      if (di === 0) continue;
      for (let j = i; j < k; j++) acc[i * k + j] += di * d[j];
    }
  }
  const out: number[][] = [];
  for (let i = 0; i < k; i++) out.push(new Array<number>(k).fill(0));
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const v = acc[i * k + j] / n;
      out[i][j] = v;
      out[j][i] = v;
    }
  }
  return out;
}

/**
 * Correlation matrix from a covariance matrix: `C[i][j] / sqrt(C[i][i] C[j][j])` (0 where a variance is 0, 1 on
 * the diagonal).
 *
 * @example
 * ```ts
 * const corr = covarianceToCorrelation(predictionCovariance(p, 10));
 * ```
 */
export function covarianceToCorrelation(cov: readonly (readonly number[])[]): number[][] {
  checkSquare('covarianceToCorrelation', 'cov', cov);
  const sd = cov.map((row, i) => Math.sqrt(Math.max(row[i], 0)));
  return cov.map((row, i) =>
    row.map((v, j) => (i === j ? 1 : sd[i] > 0 && sd[j] > 0 ? v / (sd[i] * sd[j]) : 0)),
  );
}

/**
 * The symmetrised, row-normalised confusion matrix: `M[i][j]` is the fraction of held-out rows of true class `i`
 * whose arg-max prediction is `j`, and the result is `(M + M^T) / 2`. Its diagonal holds per-class accuracy, its
 * off-diagonal how often two classes are mistaken for each other.
 *
 * @param probabilities row-major `[rows, numClasses]` predictions (probabilities or logits: only the arg-max is used)
 * @param labels true class of each row
 * @example
 * ```ts
 * const conf = confusionAffinity(await generalist.predict(x).data(), yHeldOut, 10);
 * ```
 */
export function confusionAffinity(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
): number[][] {
  const n = checkProbs('confusionAffinity', probabilities, numClasses);
  checkLabels('confusionAffinity', labels, n, numClasses);
  const k = numClasses;
  const counts: number[][] = [];
  for (let i = 0; i < k; i++) counts.push(new Array<number>(k).fill(0));
  const perClass = new Array<number>(k).fill(0);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (probabilities[r * k + j] > probabilities[r * k + best]) best = j;
    counts[labels[r]][best]++;
    perClass[labels[r]]++;
  }
  const m = counts.map((row, i) => row.map((c) => (perClass[i] > 0 ? c / perClass[i] : 0)));
  return m.map((row, i) => row.map((v, j) => (v + m[j][i]) / 2));
}

/**
 * The columns K-means clusters for the confusion method: the symmetrised confusion rates with each diagonal entry
 * replaced by its class's total confusion rate (so two classes confused only with each other get equal columns),
 * each column scaled to unit length (so rarely confused classes stay apart instead of collapsing near zero). A
 * class that is never confused keeps a unit column on its own axis.
 */
export function confusionFeatures(affinity: number[][]): number[][] {
  const n = affinity.length;
  const m = affinity.map((row, i) => row.map((v, j) => (i === j ? 0 : v)));
  for (let i = 0; i < n; i++) m[i][i] = m[i].reduce((a, b) => a + b, 0);
  for (let j = 0; j < n; j++) {
    let norm = 0;
    for (let i = 0; i < n; i++) norm += m[i][j] * m[i][j];
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) m[i][j] = norm > 0 ? m[i][j] / norm : i === j ? 1 : 0;
  }
  return m;
}

export function checkLabels(
  fn: string,
  labels: ArrayLike<number> | undefined,
  rows: number,
  numClasses: number,
): void {
  if (
    labels === undefined ||
    labels === null ||
    typeof labels !== 'object' ||
    typeof labels.length !== 'number' ||
    labels.length !== rows
  ) {
    throw new InvalidArgumentError(fn, 'labels', `an array of ${rows} class indices (one per row)`, labels);
  }
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new InvalidArgumentError(fn, `labels[${i}]`, `an integer in [0, ${numClasses - 1}]`, l);
    }
  }
}

export function checkSquare(fn: string, argument: string, m: unknown): asserts m is number[][] {
  if (
    !Array.isArray(m) ||
    m.length === 0 ||
    !m.every((row) => Array.isArray(row) && row.length === m.length && row.every((v) => Number.isFinite(v)))
  ) {
    throw new InvalidArgumentError(
      fn,
      argument,
      'a non-empty square matrix of finite numbers (number[][])',
      m,
    );
  }
}
