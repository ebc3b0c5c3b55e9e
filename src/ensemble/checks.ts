/**
 * Input-shape check of the ensemble's predictions, run before any tensor is allocated: the batch against the
 * generalist's and every specialist's declared input.
 *
 * @internal
 * @module
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { checkModelInput } from '../core/input-shape.js';

/** Checks `x` against the generalist's and each specialist's declared input. @internal */
export function checkEnsembleInput(
  fn: string,
  x: Tensor,
  generalist: unknown,
  specialists: readonly { model: unknown }[],
): void {
  checkModelInput(fn, 'x', x, generalist, 'the generalist');
  specialists.forEach((s, m) => {
    checkModelInput(fn, 'x', x, s.model, `specialists[${m}].model`);
  });
}
