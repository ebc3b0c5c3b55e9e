/**
 * Shared types: image batches, progress reporting and the model interfaces a consumer implements to plug a model
 * of their own into transferkit.
 *
 * @module
 */
import type { NamedTensorMap, Tensor, Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs-core';
import { isTensor } from './checks.js';
import { InvalidArgumentError, ShapeMismatchError } from './errors.js';

/**
 * Labeled data: inputs and their class indices, the one shape every fit / evaluate / split function takes.
 *
 * @example
 * ```ts
 * const test: LabeledData = { x: images, labels: [3, 1, 4] };
 * ```
 */
export interface LabeledData {
  /** Inputs, `[count, ...inputShape]` (e.g. NHWC images). Never disposed by transferkit. */
  readonly x: Tensor;
  /** Class indices in `[0, numClasses)`, one per input: an int32/float32 `Tensor1D` or a plain array. */
  readonly labels: Tensor1D | ArrayLike<number>;
}

/** A batch of images in NHWC layout: `[batch, height, width, channels]`, float32. */
export type ImageBatch = Tensor4D;

/**
 * A box in pixel coordinates `[y1, x1, y2, x2]`, half-open: rows `y1 <= y < y2` and columns `x1 <= x < x2`, so its
 * area is `(y2 - y1) * (x2 - x1)`. Divide by the image height/width for tfjs's normalised `cropAndResize` boxes.
 */
export type PixelBox = [number, number, number, number];

/** One progress report of long work (training, extraction over a data set, a report section). */
export interface ProgressEvent {
  /** What is being done, e.g. `'extract'`, `'train'`, `'epoch'`. */
  phase: string;
  /** Units done so far in this phase (images, batches, epochs...). */
  done: number;
  /** Units in this phase (`done === total` at the end). */
  total: number;
  /** Optional figures of the moment, e.g. `{ loss: 0.12, acc: 0.97 }`. */
  metrics?: Record<string, number>;
}

/** Receives {@link ProgressEvent}s. Keep it cheap: it is called from inner loops. */
export type ProgressCallback = (event: ProgressEvent) => void;

/**
 * Anything that maps a batch of inputs to one output tensor synchronously. A tfjs `LayersModel` and a tfjs-converter
 * `GraphModel` satisfy it (their `predict`), and so does any object of the user's with a `predict` method. This is how custom models plug in.
 *
 * @example
 * ```ts
 * const myModel: PredictModel = { predict: (x) => tf.matMul(x.reshape([x.shape[0], -1]), w) };
 * ```
 */
export interface PredictModel {
  /**
   * Maps an input batch to an output batch (for a classifier: logits or probabilities, `[batch, classes]`). The
   * named-map form is there so that a tfjs-converter `GraphModel` satisfies the interface as it is; transferkit
   * needs a single tensor.
   */
  predict(x: Tensor): Tensor | Tensor[] | NamedTensorMap;
}

/** A classifier that tells whether its `predict` returns logits or probabilities. */
export interface Classifier extends PredictModel {
  /** `'logits'` (pre-softmax scores) or `'probabilities'` (rows sum to 1). */
  readonly outputKind: 'logits' | 'probabilities';
  /** Number of classes. */
  readonly numClasses: number;
}

/**
 * Runs `model.predict(x)` and checks that it returns one rank-2 tensor `[batch, classes]`. Call inside a scope.
 *
 * @throws {@link InvalidArgumentError} when the model returns several outputs, or {@link ShapeMismatchError} when
 * the output is not `[x.shape[0], classes]`.
 */
export function predict2d(fn: string, argument: string, model: PredictModel, x: Tensor): Tensor2D {
  const y = model.predict(x);
  if (Array.isArray(y) || !isTensor(y)) {
    throw new InvalidArgumentError(fn, argument, 'a model whose predict() returns a single tensor', y);
  }
  if (y.rank !== 2 || y.shape[0] !== x.shape[0]) {
    const shape = [...y.shape];
    y.dispose();
    throw new ShapeMismatchError(fn, argument, `a model output of shape [${x.shape[0]}, classes]`, shape);
  }
  return y as Tensor2D;
}

/** Is `v` an object with a callable `predict` method? */
export function isPredictModel(v: unknown): v is PredictModel {
  return typeof v === 'object' && v !== null && typeof (v as PredictModel).predict === 'function';
}
