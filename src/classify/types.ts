/**
 * The one interface every feature classifier implements (tfjs linear SVM, softmax regression, the ml-svm
 * adapter), so users swap them freely; plus label and class-weight handling shared by all.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import type { ProgressCallback } from '../core/types.js';
import type { FeatureInput } from '../features/matrix.js';

/**
 * The classifiers transferkit ships.
 *
 * @example
 * ```ts
 * const clf = await loadClassifier(saved);
 * if (clf.kind === 'ml-svm') console.log('SMO one-vs-rest');
 * ```
 */
export type ClassifierKind = 'linear-svm' | 'softmax' | 'ml-svm';

/**
 * Integer class labels in [0, numClasses): an array, a typed array or a rank-1 tensor.
 *
 * @example
 * ```ts
 * await svm.fit(features, [0, 2, 1, 1]); // or an Int32Array, or tf.tensor1d(labels, 'int32')
 * ```
 */
export type LabelInput = ArrayLike<number> | tf.Tensor1D;

/**
 * Per-class weights of the loss: `'balanced'` (n / (K n_k)), or one number per class.
 *
 * @example
 * ```ts
 * new LinearSvm({ classWeight: 'balanced' }); // or [1, 5, 1] for 3 classes
 * ```
 */
export type ClassWeight = 'balanced' | readonly number[];

/**
 * Options of `fit`.
 *
 * @example
 * ```ts
 * await svm.fit(x, y, { onProgress: (e) => console.log(e.done, e.metrics?.loss) });
 * ```
 */
export interface FitOptions {
  /** Progress reports (`phase: 'fit'`, `done`/`total` in iterations or classes, `metrics.loss` when known). */
  onProgress?: ProgressCallback;
}

/**
 * What `fit` measured.
 *
 * @example
 * ```ts
 * const { iterations, loss, ms } = await svm.fit(x, y);
 * ```
 */
export interface FitReport {
  /** Optimisation steps (tfjs classifiers) or SMO iterations summed over classes (ml-svm). */
  iterations: number;
  /** Final training objective (NaN when the method does not report one). */
  loss: number;
  /** Wall time of the fit, in milliseconds. */
  ms: number;
}

/**
 * A classifier saved as plain JSON (`JSON.stringify`-able); restore with `loadClassifier`.
 *
 * @example
 * ```ts
 * const saved: SavedClassifier = await svm.save();
 * const again = await loadClassifier(JSON.parse(JSON.stringify(saved)));
 * ```
 */
export interface SavedClassifier {
  /** Format tag identifying a saved transferkit classifier. */
  format: 'transferkit-classifier';
  /** Saved format version. */
  version: 1;
  /** Which classifier saved it (selects the class that can load it). */
  kind: ClassifierKind;
  /** Number of classes K. */
  numClasses: number;
  /** Feature dimension D. */
  dim: number;
  /** The options the classifier was created with. */
  options: Record<string, unknown>;
  /** Kind-specific state: `{ weights, bias }` for the linear models, `{ models }` for ml-svm. */
  state: Record<string, unknown>;
}

/**
 * A classifier on feature vectors. `fit` learns from features `[N, D]` and integer labels; `predictScores` gives
 * `[N, K]` scores (margins for SVMs, probabilities for softmax regression) as a tensor the caller owns; `predict`
 * the arg-max class per row.
 *
 * @example
 * ```ts
 * const clf: FeatureClassifier = new LinearSvm({ C: 1 });
 * await clf.fit(trainFeatures, trainLabels);
 * const yhat = await clf.predict(testFeatures);
 * const saved = await clf.save(); // JSON
 * clf.dispose();
 * ```
 */
export interface FeatureClassifier {
  /** Which classifier this is. */
  readonly kind: ClassifierKind;
  /** Number of classes (0 before `fit`). */
  readonly numClasses: number;
  /** Feature dimension (0 before `fit`). */
  readonly dim: number;
  /** Learns from features and labels (re-fitting starts afresh). */
  fit(x: FeatureInput, y: LabelInput, options?: FitOptions): Promise<FitReport>;
  /** Scores `[N, numClasses]`: a new tensor, yours to dispose. */
  predictScores(x: FeatureInput): Promise<tf.Tensor2D>;
  /** The class with the highest score, per row. */
  predict(x: FeatureInput): Promise<Int32Array>;
  /** The fitted classifier as JSON. */
  save(): Promise<SavedClassifier>;
  /** Frees its tensors; later calls throw DisposedError. */
  dispose(): void;
}

/** Number of classes: the option when given, else max label + 1 (at least 2). */
export function classCount(labels: Int32Array, numClasses?: number): number {
  let max = 0;
  for (const v of labels) if (v > max) max = v;
  return numClasses ?? Math.max(2, max + 1);
}

/** Resolves class weights into one number per class. */
export function classWeights(
  fn: string,
  cw: ClassWeight | undefined,
  labels: Int32Array,
  k: number,
): Float32Array {
  const w = new Float32Array(k).fill(1);
  if (cw === undefined) return w;
  if (cw === 'balanced') {
    const counts = new Float64Array(k);
    for (const v of labels) counts[v]++;
    for (let c = 0; c < k; c++) w[c] = counts[c] > 0 ? labels.length / (k * counts[c]) : 0;
    return w;
  }
  if (
    !Array.isArray(cw) ||
    cw.length !== k ||
    cw.some((v) => typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v))
  ) {
    throw new InvalidArgumentError(
      fn,
      'options.classWeight',
      `'balanced' or ${k} finite numbers >= 0 (one per class)`,
      cw,
    );
  }
  w.set(cw);
  return w;
}

/** Arg-max per row of a row-major `[rows, cols]` array. */
export function argmaxRows(scores: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (scores[i * cols + j] > scores[i * cols + best]) best = j;
    out[i] = best;
  }
  return out;
}
