/** Helpers shared inside src/ensemble (not part of the public API). */
import { checkInteger, checkOneOf, checkPositive } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import type { PredictModel } from '../core/types.js';
import { isGraphModel, isLayersModel } from '../model/kinds.js';
import { modelOutputShape, type OutputKind, outputKind } from '../model/output-kind.js';
import type { ClassClustering } from './clustering.js';
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

/** Disposes `model` when it has a `dispose` method (a PredictModel may not). */
export function disposeModel(model: PredictModel): void {
  const d = (model as { dispose?: () => unknown }).dispose;
  if (typeof d === 'function') d.call(model);
}

/** Whether `v` is a {@link ClassClustering} rather than explicit class lists. */
export function isClustering(v: unknown): v is ClassClustering {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray((v as ClassClustering).clusters)
  );
}

/** The generalist's class count: `given` (checked against its output shape) or read from that shape. */
export function resolveNumClasses(fn: string, generalist: PredictModel, given: number | undefined): number {
  if (given !== undefined) {
    checkInteger(fn, 'options.numClasses', given, 2);
    const shape = modelOutputShape(generalist);
    if (shape !== undefined && shape.length > 0 && shape[shape.length - 1] !== null) {
      if (shape[shape.length - 1] !== given) {
        throw new ShapeMismatchError(
          fn,
          'options.numClasses',
          `the generalist's class count (${shape[shape.length - 1]})`,
          `${given}`,
        );
      }
    }
    return given;
  }
  const shape = modelOutputShape(generalist);
  const k = shape?.[shape.length - 1];
  if (typeof k === 'number' && k >= 2) return k;
  throw new InvalidArgumentError(
    fn,
    'options.numClasses',
    'the class count (the generalist is neither a LayersModel nor a GraphModel with a known output shape)',
    given,
  );
}

/** What the generalist returns: `given` (checked) or detected from a layers or graph model. */
export function resolveOutputKind(
  fn: string,
  generalist: PredictModel,
  given: OutputKind | undefined,
): OutputKind {
  if (given !== undefined) {
    checkOneOf(fn, 'options.generalistOutput', given, ['probabilities', 'logits'] as const);
    return given;
  }
  return isLayersModel(generalist) || isGraphModel(generalist) ? outputKind(generalist) : 'probabilities';
}
