/**
 * Input-shape check of {@link predictPatches}, run before any crop is made: the crops it will feed the model,
 * `[*, cropHeight, cropWidth, channels of the images]`, against the model's declared input.
 *
 * @internal
 * @module
 */
import { checkImageBatch, checkInteger } from '../core/checks.js';
import { ShapeMismatchError } from '../core/errors.js';
import { declaredInputShape, formatInputShape } from '../core/input-shape.js';

/** Checks `images` (NHWC), `cropSize` and that crops of that size fit `model`'s declared input. @internal */
export function checkPatchModelInput(fn: string, model: unknown, images: unknown, cropSize: unknown): void {
  checkImageBatch(fn, 'images', images);
  if (!Array.isArray(cropSize) || cropSize.length !== 2) {
    throw new ShapeMismatchError(fn, 'cropSize', '[height, width]', String(cropSize));
  }
  checkInteger(fn, 'cropSize[0]', cropSize[0], 1);
  checkInteger(fn, 'cropSize[1]', cropSize[1], 1);
  const expected = declaredInputShape(model);
  if (expected === undefined) return;
  const crops = [null, cropSize[0], cropSize[1], images.shape[3]];
  const ok = expected.length === 4 && expected.every((d, i) => i === 0 || d === null || d === crops[i]);
  if (!ok) {
    throw new ShapeMismatchError(
      fn,
      'cropSize',
      `crops that fit the model's input ${formatInputShape(expected)}`,
      `crops of shape [*, ${cropSize[0]}, ${cropSize[1]}, ${images.shape[3]}] (cropSize and the images' channels)`,
    );
  }
}
