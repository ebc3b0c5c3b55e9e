/**
 * Bias correction for classes the student never saw in its transfer set (Hinton et al. 2015, section 3: with all 3s
 * omitted from the transfer set, "if the bias for the 3 is increased by an appropriate amount" (3.5) the distilled
 * net makes 14 errors on the 1010 threes of the test set instead of 133).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Evaluation, predictLogits, scoreLogits } from '../classify/evaluate.js';
import {
  checkInteger,
  checkNonEmptyArray,
  checkNumber,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkTensor,
  isTensor,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { readLabels } from '../core/labels.js';
import type { LabeledData, PredictModel } from '../core/types.js';
import { outputKind } from '../model/output-kind.js';

/** What {@link fitBiasShift} minimises on the validation data. */
export type BiasObjective = 'nll' | 'error';

/** Result of {@link fitBiasShift}. */
export interface BiasShiftFit {
  /** The classes whose logits are shifted. */
  classes: number[];
  /** The shift added to their logits (their output biases). */
  shift: number;
  /** What was minimised. */
  objective: BiasObjective;
  /** The score on the validation data without the shift. */
  before: Evaluation;
  /** The score with the shift. */
  after: Evaluation;
}

/** Options of {@link fitBiasShift}. */
export interface FitBiasShiftOptions {
  /** The classes to shift together (e.g. the classes absent from the transfer set). */
  classes: readonly number[];
  /**
   * `'nll'`: minimise the validation cross-entropy, which is convex in the shift (a golden-section search finds the
   * minimum); `'error'`: minimise the validation error count on a 0.05 grid (ties broken by the lower NLL).
   * @default 'nll'
   */
  objective?: BiasObjective;
  /**
   * The interval searched.
   * @default [-20, 20]
   */
  range?: readonly [number, number];
  /**
   * Whether the model outputs logits or probabilities (probabilities are shifted as `log p`).
   * @default inferred with {@link outputKind}
   */
  outputKind?: 'logits' | 'probabilities';
  /**
   * Examples per forward pass.
   * @default 512
   */
  batchSize?: number;
}

/** Checks that `labels` (a rank-1 tensor or an array) hold one label per example, before anything is computed. */
function checkLabelCount(fn: string, argument: string, labels: unknown, n: number): void {
  if (isTensor(labels)) {
    checkTensor(fn, argument, labels, { rank: 1 });
  } else if (
    labels === null ||
    typeof labels !== 'object' ||
    typeof (labels as ArrayLike<number>).length !== 'number'
  ) {
    throw new InvalidArgumentError(fn, argument, 'class labels (a rank-1 tensor or an array)', labels);
  }
  const count = isTensor(labels) ? labels.shape[0] : (labels as ArrayLike<number>).length;
  if (count !== n)
    throw new ShapeMismatchError(fn, argument, `shape [${n}] (one label per example)`, [count]);
}

/** Checks an int32 label vector of length `n`. */
export function checkLabelVector(fn: string, argument: string, labels: unknown, n: number): void {
  checkTensor(fn, argument, labels, { rank: 1, dtype: 'int32' });
  if (labels.shape[0] !== n) {
    throw new ShapeMismatchError(fn, argument, `shape [${n}] (one label per example)`, labels.shape);
  }
}

/** The known keys of {@link FitBiasShiftOptions}. */
const FIT_BIAS_SHIFT_OPTION_KEYS = knownKeys<FitBiasShiftOptions>({
  classes: true,
  objective: true,
  range: true,
  outputKind: true,
  batchSize: true,
});

/**
 * Fits the shift to add to the logits (output biases) of `classes` on validation data: the generalisation of Hinton
 * et al.'s "increase the bias of the 3 by 3.5" to any set of classes absent from a transfer set. Does not change the
 * model; apply the result with {@link applyBiasShift}.
 *
 * @param model the student (logits or probabilities, see `options.outputKind`)
 * @param data validation inputs `x` (they should contain the classes to correct) and their `labels` `[N]` (a rank-1
 *   tensor or an array of class indices), as for `evaluateClassifier`
 * @throws {@link InvalidArgumentError} for empty or out-of-range classes, a bad range or labels out of range;
 *   {@link ShapeMismatchError} when the labels are not one per input
 *
 * @example
 * ```ts
 * const fit = await fitBiasShift(student, { x: xVal, labels: yVal }, { classes: [3] });
 * applyBiasShift(student, [3], fit.shift);
 * ```
 */
export async function fitBiasShift(
  model: PredictModel,
  data: LabeledData,
  options: FitBiasShiftOptions,
): Promise<BiasShiftFit> {
  const fn = 'fitBiasShift';
  const { x, labels } = checkOptions(fn, 'data', data);
  checkTensor(fn, 'data.x', x);
  checkLabelCount(fn, 'data.labels', labels, x.shape[0] as number);
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, FIT_BIAS_SHIFT_OPTION_KEYS);
  checkNonEmptyArray<number>(fn, 'options.classes', opts.classes);
  opts.classes.forEach((c, i) => {
    checkInteger(fn, `options.classes[${i}]`, c, 0);
  });
  const objective = opts.objective ?? 'nll';
  checkOneOf(fn, 'options.objective', objective, ['nll', 'error'] as const);
  const range = opts.range ?? [-20, 20];
  if (
    !Array.isArray(range) ||
    range.length !== 2 ||
    !Number.isFinite(range[0]) ||
    !Number.isFinite(range[1]) ||
    range[0] >= range[1]
  ) {
    throw new InvalidArgumentError(fn, 'options.range', 'two finite numbers [lo, hi] with lo < hi', range);
  }
  const batchSize = opts.batchSize ?? 512;
  checkInteger(fn, 'options.batchSize', batchSize, 1);
  const kind = opts.outputKind ?? outputKind(model);
  checkOneOf(fn, 'options.outputKind', kind, ['logits', 'probabilities'] as const);

  const { values, k } = await predictLogits(fn, model, x, kind, batchSize);
  const classes = [...opts.classes];
  classes.forEach((c, i) => {
    if (c >= k) throw new InvalidArgumentError(fn, `options.classes[${i}]`, `a class index < ${k}`, c);
  });
  const y = await readLabels(fn, 'data.labels', labels, { numClasses: k });
  const mask = Array.from({ length: k }, (_, c) => classes.includes(c));
  const score = (s: number) => scoreLogits(values, k, y, mask, s);

  let shift: number;
  if (objective === 'nll') {
    // Golden-section search: the mean NLL is convex in the shift (log-sum-exp is convex, the rest is linear).
    const g = (Math.sqrt(5) - 1) / 2;
    let [a, b] = range;
    let c = b - g * (b - a);
    let d = a + g * (b - a);
    let fc = score(c).loss;
    let fd = score(d).loss;
    while (b - a > 1e-4) {
      if (fc < fd) {
        b = d;
        d = c;
        fd = fc;
        c = b - g * (b - a);
        fc = score(c).loss;
      } else {
        a = c;
        c = d;
        fc = fd;
        d = a + g * (b - a);
        fd = score(d).loss;
      }
    }
    shift = (a + b) / 2;
  } else {
    let best = { errors: Infinity, loss: Infinity, s: 0 };
    const steps = Math.round((range[1] - range[0]) / 0.05);
    for (let i = 0; i <= steps; i++) {
      const s = range[0] + (i * (range[1] - range[0])) / steps;
      const r = score(s);
      if (r.errors < best.errors || (r.errors === best.errors && r.loss < best.loss)) {
        best = { errors: r.errors, loss: r.loss, s };
      }
    }
    shift = best.s;
  }
  return { classes, shift, objective, before: score(0), after: score(shift) };
}

/** A tfjs-layers layer as far as {@link applyBiasShift} needs it. */
interface BiasLayer {
  name: string;
  weights: { name: string; shape: (number | null)[] }[];
  getWeights(): tf.Tensor[];
  setWeights(w: tf.Tensor[]): void;
}

/** A model with layers (e.g. a `tf.LayersModel`), as far as {@link applyBiasShift} needs it. */
export interface LayeredModel {
  /** The model's layers, in order (a `tf.LayersModel`'s `layers`). */
  readonly layers: readonly unknown[];
}

/** Options of {@link applyBiasShift}. */
export interface ApplyBiasShiftOptions {
  /**
   * The name of the layer whose bias is shifted.
   * @default the last layer with a bias
   */
  layer?: string;
}

/** The known keys of {@link ApplyBiasShiftOptions}. */
const APPLY_BIAS_SHIFT_OPTION_KEYS = knownKeys<ApplyBiasShiftOptions>({ layer: true });

/**
 * Adds `shift` to the output bias of `classes`, in place: the last layer (or the layer named `options.layer`) that
 * has a bias. For a linear (or softmax) output layer this adds `shift` to those classes' logits.
 *
 * @param model a tfjs-layers model
 * @throws {@link InvalidArgumentError} when no such layer exists or a class index is out of range
 *
 * @example
 * ```ts
 * applyBiasShift(student, [3], 3.5); // Hinton et al.'s correction for a transfer set without 3s
 * ```
 */
export function applyBiasShift(
  model: LayeredModel,
  classes: readonly number[],
  shift: number,
  options?: ApplyBiasShiftOptions,
): void {
  const fn = 'applyBiasShift';
  if (typeof model !== 'object' || model === null || !Array.isArray((model as LayeredModel).layers)) {
    throw new InvalidArgumentError(fn, 'model', 'a tfjs-layers model (with layers)', model);
  }
  checkNonEmptyArray<number>(fn, 'classes', classes);
  checkNumber(fn, 'shift', shift);
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, APPLY_BIAS_SHIFT_OPTION_KEYS);
  const layers = model.layers as BiasLayer[];
  const biasIndex = (l: BiasLayer) =>
    Array.isArray(l.weights) ? l.weights.findIndex((w) => /bias/.test(w.name) && w.shape.length === 1) : -1;
  let layer: BiasLayer | undefined;
  if (opts.layer !== undefined) {
    layer = layers.find((l) => l.name === opts.layer);
    if (layer === undefined || biasIndex(layer) < 0) {
      throw new InvalidArgumentError(fn, 'options.layer', 'the name of a layer with a bias', opts.layer);
    }
  } else {
    for (let i = layers.length - 1; i >= 0 && layer === undefined; i--) {
      if (biasIndex(layers[i]) >= 0) layer = layers[i];
    }
    if (layer === undefined)
      throw new InvalidArgumentError(fn, 'model', 'a model with a biased layer', model);
  }
  const bi = biasIndex(layer);
  const k = layer.weights[bi].shape[0] as number;
  classes.forEach((c, i) => {
    checkInteger(fn, `classes[${i}]`, c, 0, k - 1);
  });
  const mask = new Float32Array(k);
  for (const c of classes) mask[c] = shift;
  // getWeights() returns the live variables: never dispose them; only the new bias is ours.
  const current = layer.getWeights();
  const newBias = tf.tidy(() => tf.add(current[bi], tf.tensor1d(mask)));
  try {
    layer.setWeights(current.map((w, i) => (i === bi ? newBias : w)));
  } finally {
    newBias.dispose();
  }
}
