/**
 * Reading class labels: the one reader every primitive uses for `labels` / `y` arguments (an int tensor, a typed
 * array or a plain array of class indices).
 *
 * @module
 */
import type { Tensor1D } from '@tensorflow/tfjs-core';
import { checkTensor, isTensor } from './checks.js';
import { InvalidArgumentError, ShapeMismatchError } from './errors.js';
import { LIMITS } from './limits.js';

/** What {@link readLabels} checks besides "integers". */
export interface ReadLabelsOptions {
  /** Labels expected (one per example); unchecked when omitted. @default undefined */
  count?: number;
  /** Labels must lie in `[0, numClasses)`. @default LIMITS.maxClasses */
  numClasses?: number;
}

/**
 * Reads labels (awaiting a tensor's data; the tensor is not disposed) into an `Int32Array` and validates them:
 * integers in `[0, numClasses)`, `count` of them when given. Internal: the primitives call it on their arguments.
 *
 * @throws {@link InvalidArgumentError} naming `argument` (or `argument[i]`) for a non-label; {@link ShapeMismatchError}
 * for a tensor that is not rank 1 or a wrong count
 */
export async function readLabels(
  fn: string,
  argument: string,
  labels: unknown,
  options: ReadLabelsOptions = {},
): Promise<Int32Array> {
  let arr: ArrayLike<number>;
  if (isTensor(labels)) {
    checkTensor(fn, argument, labels, { rank: 1 });
    arr = await (labels as Tensor1D).data();
  } else if (
    labels !== null &&
    typeof labels === 'object' &&
    typeof (labels as ArrayLike<number>).length === 'number'
  ) {
    arr = labels as ArrayLike<number>;
  } else {
    throw new InvalidArgumentError(
      fn,
      argument,
      'integer class labels (an array, a typed array or a rank-1 tensor)',
      labels,
    );
  }
  if (options.count !== undefined && arr.length !== options.count) {
    throw new ShapeMismatchError(fn, argument, `${options.count} labels (one per example)`, [arr.length]);
  }
  const limit = options.numClasses ?? LIMITS.maxClasses;
  const out = new Int32Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (!Number.isInteger(v) || v < 0 || v >= limit) {
      throw new InvalidArgumentError(fn, `${argument}[${i}]`, `a class index in [0, ${limit - 1}]`, v);
    }
    out[i] = v;
  }
  return out;
}
