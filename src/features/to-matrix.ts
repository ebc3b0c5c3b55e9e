/**
 * Converts the classifiers' feature arguments to a {@link FeatureMatrix} (apart from the class, which the build
 * shares between entries).
 *
 * @module
 */
import { Matrix } from 'ml-matrix';
import { checkTensor, isTensor } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { FeatureMatrix } from './matrix.js';

/** Converts any {@link FeatureInput} to a FeatureMatrix (reads tensors asynchronously; never disposes them). */
export async function toFeatureMatrix(fn: string, argument: string, x: unknown): Promise<FeatureMatrix> {
  if (x instanceof FeatureMatrix) return x;
  if (isTensor(x)) {
    checkTensor(fn, argument, x, { rank: 2 });
    return FeatureMatrix.fromTensor(x);
  }
  if (Matrix.isMatrix(x) || (Array.isArray(x) && x.length > 0)) {
    return FeatureMatrix.fromRows(x as Matrix | ArrayLike<ArrayLike<number>>);
  }
  throw new InvalidArgumentError(
    fn,
    argument,
    'features as a FeatureMatrix, a rank-2 tensor, an ml-matrix Matrix or a non-empty array of rows',
    x,
  );
}
