/**
 * Class-group subsets for the transfer experiment: the examples of some classes, relabelled 0..k-1, and seeded
 * random splits of a label set into two halves (Yosinski et al. 2014 split ImageNet's 1000 classes at random into
 * A and B of 500 each).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkNonEmptyArray, checkTensor } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { readLabels } from '../core/labels.js';
import { Rng } from '../core/rng.js';
import type { LabeledData } from '../core/types.js';

/** A labelled subset with plain labels; `x` is a new tensor the caller owns. */
export interface ClassSubset {
  /** The selected inputs, in their original order. */
  x: tf.Tensor;
  /** Labels remapped to positions in `classes` (`0..classes.length - 1`). */
  labels: Int32Array;
  /** The original class of each new label. */
  classes: number[];
}

/**
 * Selects the examples of `classes` and relabels them by their position in `classes`.
 *
 * @throws {@link InvalidArgumentError} for an empty or repeated class list
 * @example
 * ```ts
 * const b = await selectClasses({ x: images, labels }, [5, 6, 7, 8, 9]); // digit 7 -> label 2
 * b.x.dispose();
 * ```
 */
export async function selectClasses(data: LabeledData, classes: readonly number[]): Promise<ClassSubset> {
  const fn = 'selectClasses';
  checkNonEmptyArray(fn, 'classes', classes);
  classes.forEach((c, i) => {
    checkInteger(fn, `classes[${i}]`, c, 0);
  });
  if (new Set(classes).size !== classes.length) {
    throw new InvalidArgumentError(fn, 'classes', 'distinct class indices', [...classes]);
  }
  checkTensor(fn, 'data.x', data?.x);
  const labels = await readLabels(fn, 'data.labels', data.labels);
  if (labels.length !== data.x.shape[0]) {
    throw new ShapeMismatchError(fn, 'data.labels', `${data.x.shape[0]} labels (one per input)`, [
      labels.length,
    ]);
  }
  const position = new Map(classes.map((c, i) => [c, i]));
  const idx: number[] = [];
  const out: number[] = [];
  labels.forEach((l, i) => {
    const p = position.get(l);
    if (p !== undefined) {
      idx.push(i);
      out.push(p);
    }
  });
  const x = tf.tidy(() => tf.gather(data.x, tf.tensor1d(idx, 'int32')));
  return { x, labels: Int32Array.from(out), classes: [...classes] };
}

/**
 * Splits the classes `0..numClasses-1` at random into two halves A and B (A gets the extra class when odd), both
 * sorted.
 *
 * @example
 * ```ts
 * randomClassSplit(10, 3); // e.g. { a: [0, 2, 3, 7, 8], b: [1, 4, 5, 6, 9] }
 * ```
 */
export function randomClassSplit(
  numClasses: number,
  seed: number,
): {
  /** Classes of half A (`ceil(numClasses / 2)` of them), ascending. */
  a: number[];
  /** Classes of half B (the rest), ascending. */
  b: number[];
} {
  checkInteger('randomClassSplit', 'numClasses', numClasses, 2);
  checkInteger('randomClassSplit', 'seed', seed);
  const perm = new Rng(seed).permutation(numClasses);
  const half = Math.ceil(numClasses / 2);
  const sort = (v: number[]): number[] => v.sort((p, q) => p - q);
  return { a: sort(perm.slice(0, half)), b: sort(perm.slice(half)) };
}
