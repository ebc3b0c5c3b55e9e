/** Helpers shared inside src/ensemble (not part of the public API). */
import { checkInteger, checkOneOf, checkPositive } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import type { CombineKLOptions } from './combine.js';

/**
 * Checks {@link CombineKLOptions} and fills in the defaults (also called by `SpecialistEnsemble.predict` before it
 * allocates anything). Not part of the public API.
 */
export function resolveCombineOptions(fn: string, opts: CombineKLOptions): Required<CombineKLOptions> {
  const maxIterations = opts.maxIterations ?? 500;
  checkInteger(fn, 'options.maxIterations', maxIterations, 0);
  const tolerance = opts.tolerance ?? 1e-5;
  checkPositive(fn, 'options.tolerance', tolerance);
  const learningRate = opts.learningRate ?? 1;
  checkPositive(fn, 'options.learningRate', learningRate);
  const momentum = opts.momentum ?? 0;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1)) {
    throw new InvalidArgumentError(fn, 'options.momentum', 'a number in [0, 1)', momentum);
  }
  const checkEvery = opts.checkEvery ?? 10;
  checkInteger(fn, 'options.checkEvery', checkEvery, 1);
  const preconditioner = opts.preconditioner ?? 'probability';
  checkOneOf(fn, 'options.preconditioner', preconditioner, ['probability', 'none'] as const);
  return { maxIterations, tolerance, learningRate, momentum, checkEvery, preconditioner };
}

/** Throws unless `labels` is array-like with one label per row of a batch of `rows` examples. */
export function checkLabelsPerRow(
  fn: string,
  labels: unknown,
  rows: number,
): asserts labels is ArrayLike<number> {
  if (
    labels === null ||
    typeof labels !== 'object' ||
    typeof (labels as ArrayLike<number>).length !== 'number' ||
    (labels as ArrayLike<number>).length !== rows
  ) {
    const received =
      labels !== null &&
      typeof labels === 'object' &&
      typeof (labels as ArrayLike<number>).length === 'number'
        ? `${(labels as ArrayLike<number>).length} labels`
        : String(labels);
    throw new ShapeMismatchError(fn, 'labels', `${rows} labels (one per row of x)`, received);
  }
}
