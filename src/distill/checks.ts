/**
 * Input-shape checks of the distillation entry points, run before any tensor is allocated: the transfer set (and
 * validation set) against the student's and the teacher models' declared inputs.
 *
 * @internal
 * @module
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { checkModelInput } from '../core/input-shape.js';
import { readLabels } from '../core/labels.js';
import type { PredictModel } from '../core/types.js';

/** Checks `x` against every teacher model's declared input (precomputed teacher outputs have none). @internal */
export function checkTeacherInput(fn: string, teacher: unknown, x: Tensor, argument = 'x'): void {
  // precomputed outputs ({ outputs }, no predict) have no input; checkTeacher names a malformed teacher
  if (typeof teacher !== 'object' || teacher === null) return;
  if (!Array.isArray(teacher) && typeof (teacher as { predict?: unknown }).predict !== 'function') return;
  const models: readonly PredictModel[] = Array.isArray(teacher) ? teacher : [teacher as PredictModel];
  models.forEach((m, i) => {
    checkModelInput(fn, argument, x, m, models.length > 1 ? `teacher[${i}]` : 'the teacher');
  });
}

/**
 * {@link Distiller.fit}'s shapes: `x` must fit the student and the teacher, `validationX` the student.
 *
 * @internal
 */
export function checkDistillerInputs(
  fn: string,
  student: unknown,
  teacher: unknown,
  x: Tensor,
  validationX: Tensor | undefined,
): void {
  checkModelInput(fn, 'x', x, student, 'the student');
  checkTeacherInput(fn, teacher, x);
  if (validationX !== undefined)
    checkModelInput(fn, 'options.validation.x', validationX, student, 'the student');
}

/**
 * {@link Distiller.fit}'s label VALUES, read and checked against the student's declared class count before the
 * teacher runs (a label out of range used to surface only after the teacher's forward pass over the whole
 * transfer set, whose cached outputs then stayed allocated). A student that declares no class count is checked
 * later, against the teacher's outputs.
 *
 * @internal
 */
export async function checkDistillerLabels(
  fn: string,
  student: unknown,
  labels: unknown,
  validationLabels: unknown,
): Promise<void> {
  const outputs = (student as { outputs?: { shape?: unknown }[] } | null)?.outputs;
  if (!Array.isArray(outputs) || outputs.length !== 1 || !Array.isArray(outputs[0]?.shape)) return;
  const shape = outputs[0].shape as unknown[];
  const k = shape[shape.length - 1];
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) return;
  if (labels !== undefined) await readLabels(fn, 'options.labels', labels, { numClasses: k });
  if (validationLabels !== undefined)
    await readLabels(fn, 'options.validation.labels', validationLabels, {
      numClasses: k,
    });
}
