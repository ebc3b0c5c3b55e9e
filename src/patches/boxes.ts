/**
 * Box geometry in plain TypeScript (no tensors): areas, intersections, IoU and intersection over one box's area,
 * for boxes in pixels and in the normalised form of `tf.image.cropAndResize`.
 *
 * Conventions (both boxes are `[y1, x1, y2, x2]`, the order tfjs and TensorFlow use):
 * - {@link PixelBox}: continuous pixel coordinates. Pixel `(r, c)` is the unit square `[r, r + 1) x [c, c + 1)`,
 *   so the box covers `y1 <= y < y2`, `x1 <= x < x2` and its area is `(y2 - y1) * (x2 - x1)`. The integer box
 *   `[r, c, r + h, c + w]` is exactly the slice `image[r : r + h, c : c + w]`.
 * - {@link NormalizedBox}: `tf.image.cropAndResize`'s convention, documented by TensorFlow as "a normalized
 *   coordinate value of y is mapped to the image coordinate at y * (image_height - 1)": a coordinate is the index of
 *   a pixel CENTRE divided by `height - 1` (resp. `width - 1`), and cropAndResize samples `cropHeight` points
 *   evenly from `y1 * (height - 1)` to `y2 * (height - 1)`, both ends included.
 *
 * `pixelToNormalized` maps a pixel box to the normalised box that spans the centres of its first and last
 * pixel: `y1n = y1 / (H - 1)`, `y2n = (y2 - 1) / (H - 1)`. With this mapping, cropAndResize of an integer pixel
 * box to its own size returns exactly the slice (tested), and `normalizedToPixel` inverts it exactly.
 *
 * @module
 */
import { InvalidArgumentError } from '../core/errors.js';
import type { PixelBox } from '../core/types.js';
import { intersectionArea4 } from './internal.js';

/**
 * A box `[y1, x1, y2, x2]` in `tf.image.cropAndResize`'s normalised coordinates: `y = pixelCentreIndex / (H - 1)`.
 *
 * @example
 * ```ts
 * const n: NormalizedBox = pixelToNormalized([0, 0, 28, 28], { height: 96, width: 96 }); // [0, 0, 27/95, 27/95]
 * ```
 */
export type NormalizedBox = [y1: number, x1: number, y2: number, x2: number];

/**
 * The size of an image in pixels.
 *
 * @example
 * ```ts
 * const size: ImageSize = { height: 96, width: 128 };
 * ```
 */
export interface ImageSize {
  /** Rows. */
  readonly height: number;
  /** Columns. */
  readonly width: number;
}

/**
 * Throws unless `box` is a {@link PixelBox}: four finite numbers with `y1 < y2` and `x1 < x2` (an inverted or empty
 * box is an error), and, when `size` is given, inside the image (`0 <= y1`, `y2 <= height`, same for x).
 *
 * @example
 * ```ts
 * checkPixelBox('myFn', 'box', [0, 0, 10, 10], { height: 28, width: 28 }); // ok
 * checkPixelBox('myFn', 'box', [5, 0, 2, 10]); // throws: y1 must be < y2
 * ```
 */
export function checkPixelBox(
  fn: string,
  argument: string,
  box: unknown,
  size?: ImageSize,
): asserts box is PixelBox {
  const b = box as number[];
  if (
    !(Array.isArray(box) || ArrayBuffer.isView(box)) ||
    b.length !== 4 ||
    !Number.isFinite(b[0]) ||
    !Number.isFinite(b[1]) ||
    !Number.isFinite(b[2]) ||
    !Number.isFinite(b[3])
  ) {
    throw new InvalidArgumentError(fn, argument, 'a box [y1, x1, y2, x2] of four finite numbers', box);
  }
  if (!(b[0] < b[2]) || !(b[1] < b[3])) {
    throw new InvalidArgumentError(
      fn,
      argument,
      'a box [y1, x1, y2, x2] with y1 < y2 and x1 < x2 (not inverted, not empty)',
      Array.from(b),
    );
  }
  if (size !== undefined && (b[0] < 0 || b[1] < 0 || b[2] > size.height || b[3] > size.width)) {
    throw new InvalidArgumentError(
      fn,
      argument,
      `a box inside the ${size.height}x${size.width} image (0 <= y1 < y2 <= ${size.height}, 0 <= x1 < x2 <= ${size.width})`,
      Array.from(b),
    );
  }
}

/**
 * Throws unless `size` has positive integer height and width.
 *
 * @example
 * ```ts
 * checkImageSize('myFn', 'size', { height: 96, width: 96 }); // ok
 * ```
 */
export function checkImageSize(fn: string, argument: string, size: unknown): asserts size is ImageSize {
  const s = size as ImageSize;
  if (
    typeof size !== 'object' ||
    size === null ||
    !Number.isInteger(s.height) ||
    !Number.isInteger(s.width) ||
    s.height < 1 ||
    s.width < 1
  ) {
    throw new InvalidArgumentError(fn, argument, '{ height, width } with positive integers', size);
  }
}

/**
 * The area of a box, `(y2 - y1) * (x2 - x1)`.
 *
 * @example
 * ```ts
 * boxArea([0, 0, 2, 3]); // 6
 * ```
 */
export function boxArea(box: PixelBox): number {
  checkPixelBox('boxArea', 'box', box);
  return (box[2] - box[0]) * (box[3] - box[1]);
}

/**
 * The intersection of two boxes as a box, or `null` when they do not overlap (touching edges do not overlap).
 *
 * @example
 * ```ts
 * boxIntersection([0, 0, 4, 4], [2, 2, 6, 6]); // [2, 2, 4, 4]
 * ```
 */
export function boxIntersection(a: PixelBox, b: PixelBox): PixelBox | null {
  checkPixelBox('boxIntersection', 'a', a);
  checkPixelBox('boxIntersection', 'b', b);
  const y1 = Math.max(a[0], b[0]);
  const x1 = Math.max(a[1], b[1]);
  const y2 = Math.min(a[2], b[2]);
  const x2 = Math.min(a[3], b[3]);
  return y1 < y2 && x1 < x2 ? [y1, x1, y2, x2] : null;
}

/**
 * The area of the intersection of two boxes, `|A ∩ B|` (0 when they do not overlap).
 *
 * @example
 * ```ts
 * intersectionArea([0, 0, 4, 4], [2, 2, 6, 6]); // 4
 * ```
 */
export function intersectionArea(a: PixelBox, b: PixelBox): number {
  checkPixelBox('intersectionArea', 'a', a);
  checkPixelBox('intersectionArea', 'b', b);
  return intersectionArea4(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]);
}

/**
 * Intersection over union, `|A ∩ B| / |A ∪ B|`, in `[0, 1]` and symmetric.
 *
 * @example
 * ```ts
 * boxIoU([0, 0, 4, 4], [2, 2, 6, 6]); // 4 / 28
 * ```
 */
export function boxIoU(a: PixelBox, b: PixelBox): number {
  checkPixelBox('boxIoU', 'a', a);
  checkPixelBox('boxIoU', 'b', b);
  const inter = intersectionArea4(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]);
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return inter / union;
}

/**
 * Intersection over the area of the FIRST box, `|A ∩ B| / |A|`, in `[0, 1]`. Swap the arguments for `|A ∩ B| / |B|`.
 * Oquab et al. (2014), Sec. 3.2, label a patch P with the class of object box B when
 * `intersectionOverArea(P, B) >= 0.2` and `intersectionOverArea(B, P) >= 0.6`.
 *
 * @example
 * ```ts
 * intersectionOverArea([0, 0, 4, 4], [2, 2, 6, 6]); // 0.25: a quarter of the first box is covered
 * intersectionOverArea([2, 2, 3, 3], [0, 0, 4, 4]); // 1: the first box lies inside the second
 * ```
 */
export function intersectionOverArea(a: PixelBox, b: PixelBox): number {
  checkPixelBox('intersectionOverArea', 'a', a);
  checkPixelBox('intersectionOverArea', 'b', b);
  const inter = intersectionArea4(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]);
  return inter / ((a[2] - a[0]) * (a[3] - a[1]));
}

/**
 * Converts a pixel box to `tf.image.cropAndResize`'s normalised box spanning the centres of the box's first and
 * last pixel: `[y1 / (H - 1), x1 / (W - 1), (y2 - 1) / (H - 1), (x2 - 1) / (W - 1)]` (a side of 1 pixel maps to 0).
 * Cropping an integer box to its own size then gives exactly the slice; cropping to another size resamples
 * bilinearly between those centres.
 *
 * @throws {@link InvalidArgumentError} for an inverted box or one outside the image.
 * @example
 * ```ts
 * pixelToNormalized([0, 0, 28, 28], { height: 96, width: 96 }); // [0, 0, 27 / 95, 27 / 95]
 * ```
 */
export function pixelToNormalized(box: PixelBox, size: ImageSize): NormalizedBox {
  checkImageSize('pixelToNormalized', 'size', size);
  checkPixelBox('pixelToNormalized', 'box', box, size);
  const hy = size.height > 1 ? 1 / (size.height - 1) : 0;
  const hx = size.width > 1 ? 1 / (size.width - 1) : 0;
  return [box[0] * hy, box[1] * hx, (box[2] - 1) * hy, (box[3] - 1) * hx];
}

/**
 * The inverse of `pixelToNormalized`: `[y1 (H - 1), x1 (W - 1), y2 (H - 1) + 1, x2 (W - 1) + 1]`. (A pixel box
 * whose sides are >= 1 pixel maps to a normalised box with `y1 <= y2`, `x1 <= x2`; cropAndResize reads a box with
 * `y1 > y2` as a vertical flip, which has no pixel box.)
 *
 * @throws {@link InvalidArgumentError} when a coordinate is not finite or the pixel box would be inverted.
 * @example
 * ```ts
 * normalizedToPixel([0, 0, 27 / 95, 27 / 95], { height: 96, width: 96 }); // [0, 0, 28, 28] (up to rounding)
 * ```
 */
export function normalizedToPixel(box: NormalizedBox, size: ImageSize): PixelBox {
  checkImageSize('normalizedToPixel', 'size', size);
  if (!Array.isArray(box) || box.length !== 4 || !box.every((v) => Number.isFinite(v))) {
    throw new InvalidArgumentError(
      'normalizedToPixel',
      'box',
      'a normalised box [y1, x1, y2, x2] of four finite numbers',
      box,
    );
  }
  const sy = size.height - 1;
  const sx = size.width - 1;
  const out: PixelBox = [box[0] * sy, box[1] * sx, box[2] * sy + 1, box[3] * sx + 1];
  if (!(out[0] < out[2]) || !(out[1] < out[3])) {
    throw new InvalidArgumentError(
      'normalizedToPixel',
      'box',
      'a normalised box whose pixel box is not inverted (y1 (H - 1) < y2 (H - 1) + 1, same for x)',
      box,
    );
  }
  return out;
}

/**
 * Converts many pixel boxes at once (a flat `[n * 4]` array, the layout of {@link PatchGrid.boxes}) to normalised
 * boxes in a new `Float32Array`, ready for `tf.image.cropAndResize`. No checks per box: pass boxes that
 * `checkPixelBox` accepts.
 *
 * @example
 * ```ts
 * const n = pixelBoxesToNormalized(new Float32Array([0, 0, 28, 28]), { height: 96, width: 96 });
 * ```
 */
export function pixelBoxesToNormalized(boxes: ArrayLike<number>, size: ImageSize): Float32Array {
  checkImageSize('pixelBoxesToNormalized', 'size', size);
  if (boxes.length % 4 !== 0) {
    throw new InvalidArgumentError(
      'pixelBoxesToNormalized',
      'boxes',
      'a flat array whose length is a multiple of 4',
      boxes,
    );
  }
  const hy = size.height > 1 ? 1 / (size.height - 1) : 0;
  const hx = size.width > 1 ? 1 / (size.width - 1) : 0;
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = boxes[i] * hy;
    out[i + 1] = boxes[i + 1] * hx;
    out[i + 2] = (boxes[i + 2] - 1) * hy;
    out[i + 3] = (boxes[i + 3] - 1) * hx;
  }
  return out;
}
