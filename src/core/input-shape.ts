/**
 * Input checks against a model's declared input: the shape of a batch a model will be called on, and the dtype of
 * images for layers that need float32. Like the checks in ./checks.ts they allocate no tensor, so public methods
 * call them before any work; they replace the raw tfjs-layers errors ("expected flatten_input to have 4
 * dimension(s)") with a typed {@link ShapeMismatchError} that names the function, the argument and both shapes.
 *
 * @internal
 * @module
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from './errors.js';

/**
 * The declared shape of a model's single input, batch dimension included (`[null, 28, 28, 1]`), with unknown
 * sizes (`null`, `-1`) as `null`; `undefined` when the model declares none (a plain `{ predict }` object, several
 * inputs). Works for tfjs-layers models (`inputs[0].shape`) and graph models (`inputs[0].shape`, may be absent).
 *
 * @internal
 */
export function declaredInputShape(model: unknown): (number | null)[] | undefined {
  if (typeof model !== 'object' || model === null) return undefined;
  let inputs: unknown;
  try {
    inputs = (model as { inputs?: unknown }).inputs;
  } catch {
    return undefined; // a getter that throws (a graph model not loaded yet): nothing declared
  }
  if (!Array.isArray(inputs) || inputs.length !== 1) return undefined;
  const shape = (inputs[0] as { shape?: unknown } | null)?.shape;
  if (!Array.isArray(shape)) return undefined;
  return shape.map((d) => (typeof d === 'number' && Number.isInteger(d) && d >= 0 ? d : null));
}

/** `[*, 28, 28, 1]`: a declared shape as messages print it (the batch and unknown sizes as `*`). */
export function formatInputShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d, i) => (i === 0 || d === null ? '*' : d)).join(', ')}]`;
}

/**
 * Throws a {@link ShapeMismatchError} unless the batch `x` fits `model`'s declared input: the same rank and the
 * same size in every declared non-batch dimension. Does nothing for a model that declares no input shape.
 *
 * @param what how the message names the model (`'the student'`, `'specialists[1].model'`)
 * @internal
 */
export function checkModelInput(fn: string, argument: string, x: Tensor, model: unknown, what: string): void {
  const expected = declaredInputShape(model);
  if (expected === undefined) return;
  const ok =
    x.rank === expected.length && expected.every((d, i) => i === 0 || d === null || d === x.shape[i]);
  if (!ok) {
    throw new ShapeMismatchError(
      fn,
      argument,
      `a batch of shape ${formatInputShape(expected)} (the input of ${what})`,
      x.shape,
    );
  }
}

/**
 * Throws an {@link InvalidArgumentError} unless the tensor `x` is float32 (convolutions, pooling and their
 * gradients take float32 only; int32 or bool images must be cast by the caller, who owns them).
 *
 * @internal
 */
export function checkFloatInput(fn: string, argument: string, x: Tensor): void {
  if (x.dtype !== 'float32') {
    throw new InvalidArgumentError(
      fn,
      argument,
      `a float32 tensor (cast it first: tf.cast(${argument.split('.').pop()}, 'float32'))`,
      x,
    );
  }
}
