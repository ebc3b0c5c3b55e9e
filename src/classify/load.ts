/**
 * Restores any saved feature classifier by its kind.
 *
 * @module
 */
import { InvalidArgumentError } from '../core/errors.js';
import { LinearSvm, SoftmaxRegression } from './linear.js';
import { MlSvmClassifier } from './ml-svm.js';
import type { FeatureClassifier, SavedClassifier } from './types.js';

/**
 * Restores a classifier saved with `save()` (any kind), e.g. after `JSON.parse` of a file. Async like every `load`
 * of transferkit; a bad saved object rejects with a typed error.
 *
 * @example
 * ```ts
 * const clf = await loadClassifier(JSON.parse(text));
 * const yhat = await clf.predict(features);
 * ```
 */
export async function loadClassifier(saved: SavedClassifier): Promise<FeatureClassifier> {
  switch (saved?.kind) {
    case 'linear-svm':
      return LinearSvm.load(saved);
    case 'softmax':
      return SoftmaxRegression.load(saved);
    case 'ml-svm':
      return MlSvmClassifier.load(saved);
    default:
      throw new InvalidArgumentError(
        'loadClassifier',
        'saved',
        "a saved classifier of kind 'linear-svm', 'softmax' or 'ml-svm'",
        saved?.kind ?? saved,
      );
  }
}
