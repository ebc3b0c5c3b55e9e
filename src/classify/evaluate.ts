/**
 * The one evaluator of transferkit: top-1 accuracy, errors, mean cross-entropy and per-class errors of any
 * classifier (a tfjs-layers model, a GraphModel, anything with `predict`) on labeled data, in batches.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkInteger, checkOneOf, checkOptionKeys, checkOptions, checkTensor } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { readLabels } from '../core/labels.js';
import { type LabeledData, type PredictModel, predict2d } from '../core/types.js';
import { isLayersModel } from '../model/kinds.js';
import { type OutputKind, outputKind } from '../model/output-kind.js';

/** What {@link evaluateClassifier} measures. */
export interface Evaluation {
  /** Examples evaluated. */
  count: number;
  /** Top-1 accuracy in `[0, 1]` (`NaN` for no examples). */
  accuracy: number;
  /** Misclassified examples. */
  errors: number;
  /** `errors / count` (0 for no examples). */
  errorRate: number;
  /** Mean negative log-likelihood of the true labels (softmax cross-entropy at `T = 1`; 0 for no examples). */
  loss: number;
  /** Errors per class (indexed by the true label). */
  perClassErrors: number[];
  /** Examples per class. */
  perClassCounts: number[];
}

/** Options of {@link evaluateClassifier}. */
export interface EvaluateOptions {
  /**
   * Inputs per forward pass.
   * @default 256
   */
  batchSize?: number;
  /**
   * What the model returns (only the loss depends on it).
   * @default inferred with {@link outputKind}
   */
  outputKind?: OutputKind;
}

/**
 * A model's logits on `x`, as one flat array (row-major `[N, K]`), read asynchronously in batches (inference mode).
 * Probabilities are converted to log-probabilities. Internal.
 */
export async function predictLogits(
  fn: string,
  model: PredictModel,
  x: tf.Tensor,
  kind: OutputKind,
  batchSize: number,
): Promise<{ values: Float32Array; k: number }> {
  const n = x.shape[0] as number;
  let values: Float32Array | undefined;
  let k = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const out = tf.tidy(() => {
      const y = predict2d(fn, 'model', model, tf.slice(x, start, size));
      return kind === 'logits' ? y : tf.log(y);
    });
    try {
      if (values === undefined) {
        k = out.shape[1] as number;
        values = new Float32Array(n * k);
      }
      values.set((await out.data()) as Float32Array, start * k);
    } finally {
      out.dispose();
    }
  }
  return { values: values ?? new Float32Array(0), k };
}

/**
 * Scores flat logits `[N, k]` against labels, with `shift` added to the logits of the `mask` classes (the bias
 * correction of Hinton et al. 2015, section 3; no shift: `mask` all false). Plain JS. Internal.
 */
export function scoreLogits(
  logits: Float32Array,
  k: number,
  labels: ArrayLike<number>,
  mask: readonly boolean[] = [],
  shift = 0,
): Evaluation {
  const n = labels.length;
  const perClassErrors = new Array<number>(k).fill(0);
  const perClassCounts = new Array<number>(k).fill(0);
  let errors = 0;
  let nll = 0;
  for (let r = 0; r < n; r++) {
    let best = 0;
    let max = -Infinity;
    for (let c = 0; c < k; c++) {
      const v = logits[r * k + c] + (mask[c] ? shift : 0);
      if (v > max) {
        max = v;
        best = c;
      }
    }
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(logits[r * k + c] + (mask[c] ? shift : 0) - max);
    const y = labels[r];
    nll += max + Math.log(s) - (logits[r * k + y] + (mask[y] ? shift : 0));
    perClassCounts[y]++;
    if (best !== y) {
      errors++;
      perClassErrors[y]++;
    }
  }
  return {
    count: n,
    accuracy: n > 0 ? (n - errors) / n : Number.NaN,
    errors,
    errorRate: n > 0 ? errors / n : 0,
    loss: n > 0 ? nll / n : 0,
    perClassErrors,
    perClassCounts,
  };
}

/** The model's class count when it is a tfjs-layers model (checked before anything runs). */
function layersModelShapes(fn: string, model: PredictModel, x: tf.Tensor): number | undefined {
  return isLayersModel(model) ? classifierClasses(fn, 'data.x', model, x) : undefined;
}

/**
 * Checks that a tfjs-layers model is a classifier (one input, one `[batch, classes]` output) whose input shape
 * matches `x`, and returns its class count. Typed errors name `argument` for a wrong `x`.
 *
 * @internal
 */
export function classifierClasses(
  fn: string,
  argument: string,
  model: tfl.LayersModel,
  x: tf.Tensor,
): number {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new InvalidArgumentError(fn, 'model', 'a model with one input and one output', model.name);
  }
  const inShape = model.inputs[0].shape;
  const ok = x.rank === inShape.length && inShape.every((d, i) => i === 0 || d === null || d === x.shape[i]);
  if (!ok) {
    const want = inShape
      .slice(1)
      .map((d) => d ?? '*')
      .join(', ');
    throw new ShapeMismatchError(
      fn,
      argument,
      `inputs of shape [*, ${want}] (the model's input shape)`,
      x.shape,
    );
  }
  const outShape = model.outputs[0].shape;
  if (outShape.length !== 2 || outShape[1] === null) {
    throw new InvalidArgumentError(
      fn,
      'model',
      'a classifier with output shape [batch, classes]',
      model.name,
    );
  }
  return outShape[1];
}

/**
 * Evaluates a classifier on labeled data in batches (inference mode): accuracy, errors, mean cross-entropy and
 * per-class errors, all from one pass. The model may return logits or probabilities (see `options.outputKind`).
 *
 * @param model a tfjs-layers model, a GraphModel, or anything with `predict` returning `[N, classes]`
 * @param data inputs and their class indices
 * @throws {@link ShapeMismatchError} when the inputs do not fit a tfjs-layers model or the label count differs,
 * {@link InvalidArgumentError} for labels outside `[0, classes)`, before any tensor is allocated for a
 * tfjs-layers model (after the first batch for other models, which then frees what it allocated)
 *
 * @example
 * ```ts
 * const { accuracy, errors, perClassErrors } = await evaluateClassifier(cnn, { x: mnist.test.x, labels: mnist.test.y });
 * ```
 */
export async function evaluateClassifier(
  model: PredictModel,
  data: LabeledData,
  options?: EvaluateOptions,
): Promise<Evaluation> {
  const fn = 'evaluateClassifier';
  if (model === null || typeof model !== 'object' || typeof (model as PredictModel).predict !== 'function') {
    throw new InvalidArgumentError(fn, 'model', 'a model with a predict() method', model);
  }
  const { x, labels: rawLabels } = checkOptions(fn, 'data', data);
  checkTensor(fn, 'data.x', x);
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, ['batchSize', 'outputKind']);
  const batchSize = opts.batchSize ?? 256;
  checkInteger(fn, 'options.batchSize', batchSize, 1);
  if (opts.outputKind !== undefined)
    checkOneOf(fn, 'options.outputKind', opts.outputKind, ['logits', 'probabilities']);
  const n = x.shape[0] as number;
  const numClasses = layersModelShapes(fn, model, x);
  const labels = await readLabels(fn, 'data.labels', rawLabels, { count: n, numClasses });
  const kind = opts.outputKind ?? outputKind(model);
  const { values, k } = await predictLogits(fn, model, x, kind, batchSize);
  if (numClasses === undefined) await readLabels(fn, 'data.labels', labels, { numClasses: k });
  return scoreLogits(values, k, labels);
}
