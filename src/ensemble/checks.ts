/**
 * Checks of a SpecialistEnsemble, run before any tensor is allocated: the specialists it is built from (model,
 * output kind, dustbin correction, output width) and the input of its predictions (the batch against the
 * generalist's and every specialist's declared input).
 *
 * @internal
 * @module
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { checkOneOf } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { checkModelInput } from '../core/input-shape.js';
import { isPredictModel } from '../core/types.js';
import { isLayersModel } from '../model/kinds.js';
import type { Specialist } from './types.js';

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

/** Checks each specialist's model, output kind, dustbin correction and (for a LayersModel) output width. @internal */
export function checkSpecialists(fn: string, specialists: readonly Specialist[]): void {
  specialists.forEach((s, m) => {
    if (typeof s !== 'object' || s === null || !isPredictModel(s.model)) {
      throw new InvalidArgumentError(
        fn,
        `specialists[${m}].model`,
        'a model with a predict() method',
        s?.model,
      );
    }
    checkOneOf(fn, `specialists[${m}].outputKind`, s.outputKind, ['probabilities', 'logits'] as const);
    if (typeof s.dustbinLogitShift !== 'number' || !Number.isFinite(s.dustbinLogitShift)) {
      throw new InvalidArgumentError(
        fn,
        `specialists[${m}].dustbinLogitShift`,
        'a finite number',
        s.dustbinLogitShift,
      );
    }
    if (isLayersModel(s.model)) {
      const shape = s.model.outputs[0].shape;
      const want = (s.classes?.length ?? 0) + 1;
      if (shape[shape.length - 1] !== want) {
        throw new ShapeMismatchError(
          fn,
          `specialists[${m}].model`,
          `a model with ${want} outputs (its ${want - 1} classes + the dustbin)`,
          shape.map((d: number | null) => d ?? -1),
        );
      }
    }
  });
}
