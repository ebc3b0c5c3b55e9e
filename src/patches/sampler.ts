/**
 * `PatchSampler`: Oquab et al.'s regular multi-scale grid of square patches (2014, Sec. 3.3: "about 500 square
 * patches per image on a regular grid at 8 scales, with at least 50% overlap between neighbouring patches"), in
 * plain TypeScript. The grid depends only on the image size, so one sampler serves a whole data set.
 *
 * @module
 */
import { checkInRange, checkInteger, checkOptionKeys, checkOptions } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { PixelBox } from '../core/types.js';
import type { ImageSize } from './boxes.js';
import { checkImageSize } from './boxes.js';
import type { LabelledBox, LabelOptions, PatchLabels } from './labels.js';
import { labelPatches } from './labels.js';

/**
 * Options of {@link PatchSampler}.
 *
 * @example
 * ```ts
 * new PatchSampler({ scales: [1, 0.5, 0.25], overlap: 0.75, minPatchSize: 12 });
 * ```
 */
export interface PatchSamplerOptions {
  /**
   * The scales: a count `n` (patch sides spaced geometrically from `largest` down to `smallest`), or an explicit
   * list of patch sides as fractions of `min(height, width)`, each in `(0, 1]`.
   * @default 8
   */
  scales?: number | readonly number[];
  /** Side of the largest patches as a fraction of `min(height, width)`, in `(0, 1]` (used when `scales` is a count). @default 1 */
  largest?: number;
  /**
   * Side of the smallest patches as a fraction of `min(height, width)`, in `(0, largest]` (used when `scales` is a
   * count). With the other defaults this gives 476 patches on a 96x96 or a 224x224 image, 507 on 500x500 and 708
   * on 375x500 (the paper's "about 500").
   * @default 0.125
   */
  smallest?: number;
  /** Minimum overlap between neighbouring patches of one scale, as a fraction of the patch side, in `[0, 1)`. @default 0.5 */
  overlap?: number;
  /** Patches smaller than this many pixels are not sampled (their scales are skipped). @default 8 */
  minPatchSize?: number;
}

/**
 * The grid of one scale in a {@link PatchGrid}.
 *
 * @example
 * ```ts
 * const { size, rows, cols } = grid.scales[0]; // the largest patches
 * ```
 */
export interface PatchScale {
  /** Side of the square patches, in pixels. */
  readonly size: number;
  /** Positions along y (top rows of the patches). */
  readonly rows: readonly number[];
  /** Positions along x (left columns of the patches). */
  readonly cols: readonly number[];
  /** Index of this scale's first patch in {@link PatchGrid.boxes}. */
  readonly start: number;
  /** Smallest overlap between neighbouring patches of this scale, as a fraction of the side (1 when alone). */
  readonly overlap: number;
}

/**
 * The patches of one image size, in a deterministic order: scales from largest to smallest, then row-major
 * (top to bottom, left to right).
 *
 * @example
 * ```ts
 * const grid: PatchGrid = new PatchSampler().grid({ height: 96, width: 96 });
 * grid.count; // 476
 * ```
 */
export interface PatchGrid {
  /** Image height the grid was made for. */
  readonly height: number;
  /** Image width the grid was made for. */
  readonly width: number;
  /** Number of patches. */
  readonly count: number;
  /** Pixel boxes `[y1, x1, y2, x2]` of all patches, flat: patch `i` is `boxes[4i .. 4i + 3]`. Integer coordinates. */
  readonly boxes: Float32Array;
  /** The scale index of each patch (into {@link scales}). */
  readonly scaleOf: Uint8Array;
  /** The grid of each scale, largest first. */
  readonly scales: readonly PatchScale[];
  /** Fraction of the image's pixels covered by at least one patch. */
  readonly coverage: number;
  /** Mean number of patches covering a pixel. */
  readonly density: number;
  /** Smallest overlap between neighbouring patches over all scales (>= the requested overlap). */
  readonly minOverlap: number;
}

/**
 * Patch `i` of a grid as a {@link PixelBox}.
 *
 * @example
 * ```ts
 * const grid = new PatchSampler().grid({ height: 96, width: 96 });
 * patchBox(grid, 0); // [0, 0, 96, 96]: the largest scale comes first
 * ```
 */
export function patchBox(grid: PatchGrid, i: number): PixelBox {
  checkInteger('patchBox', 'i', i, 0, grid.count - 1);
  const b = grid.boxes;
  return [b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]];
}

/** Evenly spread integer positions along an axis of length `len` for windows of side `size`, stride <= `stride`. */
function axisPositions(len: number, size: number, stride: number): number[] {
  if (size >= len) return [0];
  const n = Math.ceil((len - size) / stride) + 1;
  const out = new Array<number>(n);
  for (let j = 0; j < n; j++) out[j] = Math.floor((j * (len - size)) / (n - 1));
  return out;
}

/** Largest integer stride d with overlap 1 - d / size >= `overlap` (0 when none is >= 1). */
function maxStride(size: number, overlap: number): number {
  let d = Math.floor(size * (1 - overlap));
  while (d > 0 && 1 - d / size < overlap) d--;
  return d;
}

function maxGap(pos: readonly number[]): number {
  let g = 0;
  for (let j = 1; j < pos.length; j++) g = Math.max(g, pos[j] - pos[j - 1]);
  return g;
}

/**
 * Samples Oquab et al.'s multi-scale grid of square patches and labels the patches against object boxes.
 *
 * @example
 * ```ts
 * const sampler = new PatchSampler({ scales: 8, overlap: 0.5 });
 * const grid = sampler.grid({ height: 96, width: 96 });
 * console.log(grid.count, grid.coverage, grid.minOverlap); // 476 1 0.5
 * const labels = sampler.label(grid, [{ box: [10, 10, 38, 38], label: 3 }], { numClasses: 10 });
 * ```
 */
export class PatchSampler {
  /** The resolved options. */
  readonly options: Readonly<Required<PatchSamplerOptions>>;
  private readonly fractions: readonly number[];
  private readonly cache = new Map<string, PatchGrid>();

  /**
   * @throws {@link InvalidArgumentError} for zero or negative scale counts, fractions outside `(0, 1]`,
   * `overlap` outside `[0, 1)`, `smallest > largest` or a `minPatchSize` below 1.
   */
  constructor(options?: PatchSamplerOptions) {
    const fn = 'PatchSampler';
    const o = checkOptions(fn, 'options', options);
    checkOptionKeys(fn, 'options', o, [
      'scales',
      'largest',
      'smallest',
      'overlap',
      'minPatchSize',
    ] satisfies (keyof PatchSamplerOptions)[]);
    const scales = o.scales ?? 8;
    const largest = o.largest ?? 1;
    const smallest = o.smallest ?? 0.125;
    const overlap = o.overlap ?? 0.5;
    const minPatchSize = o.minPatchSize ?? 8;
    checkInRange(fn, 'options.largest', largest, 0, 1, { lo: true });
    checkInRange(fn, 'options.smallest', smallest, 0, largest, { lo: true });
    checkInRange(fn, 'options.overlap', overlap, 0, 1, { hi: true });
    checkInteger(fn, 'options.minPatchSize', minPatchSize, 1);
    let fractions: number[];
    if (typeof scales === 'number') {
      checkInteger(fn, 'options.scales', scales, 1, 255);
      fractions =
        scales === 1
          ? [largest]
          : Array.from({ length: scales }, (_, i) => largest * (smallest / largest) ** (i / (scales - 1)));
    } else {
      if (!Array.isArray(scales) || scales.length === 0 || scales.length > 255) {
        throw new InvalidArgumentError(
          fn,
          'options.scales',
          'a scale count >= 1 or a non-empty list (at most 255) of fractions in (0, 1]',
          scales,
        );
      }
      scales.forEach((f, i) => {
        checkInRange(fn, `options.scales[${i}]`, f, 0, 1, { lo: true });
      });
      fractions = [...scales].sort((a, b) => b - a);
    }
    this.fractions = fractions;
    this.options = { scales, largest, smallest, overlap, minPatchSize };
  }

  /**
   * The patch sides (pixels) this sampler uses on an image of `size`: `round(f * min(height, width))` for each scale
   * fraction `f`, largest first, without duplicates, without sides below `minPatchSize` and without sides too small
   * to reach the overlap with a stride of at least one pixel (`floor(s (1 - overlap)) >= 1`).
   *
   * @example
   * ```ts
   * new PatchSampler({ scales: [1, 0.5] }).patchSizes({ height: 96, width: 128 }); // [96, 48]
   * ```
   */
  patchSizes(size: ImageSize): number[] {
    checkImageSize('PatchSampler.patchSizes', 'size', size);
    const m = Math.min(size.height, size.width);
    const out: number[] = [];
    for (const f of this.fractions) {
      const s = Math.min(m, Math.max(1, Math.round(f * m)));
      // A stride of floor(s (1 - overlap)) must be >= 1 pixel, or the overlap cannot be met at this side.
      const stride = maxStride(s, this.options.overlap);
      if (s >= this.options.minPatchSize && stride >= 1 && !out.includes(s)) out.push(s);
    }
    return out;
  }

  /**
   * The grid of patches for images of `size` (cached per size). Along each axis, the patches of side `s` are spread
   * evenly from 0 to `len - s` with integer positions and a stride of at most `floor(s (1 - overlap))`, so
   * neighbours overlap by at least `overlap` of their side and the first and last patch touch the image border.
   *
   * @throws {@link InvalidArgumentError} when the size is not two positive integers, or when every scale gives
   * patches smaller than `minPatchSize`.
   * @example
   * ```ts
   * const grid = new PatchSampler({ scales: 3, smallest: 0.5 }).grid({ height: 64, width: 64 });
   * grid.scales.map((s) => s.size); // [64, 45, 32]
   * ```
   */
  grid(size: ImageSize): PatchGrid {
    checkImageSize('PatchSampler.grid', 'size', size);
    const key = `${size.height}x${size.width}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const sizes = this.patchSizes(size);
    if (sizes.length === 0) {
      throw new InvalidArgumentError(
        'PatchSampler.grid',
        'size',
        `an image large enough for patches of at least minPatchSize = ${this.options.minPatchSize} px`,
        size,
      );
    }
    const { height: H, width: W } = size;
    const scales: PatchScale[] = [];
    let count = 0;
    for (const s of sizes) {
      const stride = maxStride(s, this.options.overlap);
      const rows = axisPositions(H, s, stride);
      const cols = axisPositions(W, s, stride);
      const gap = Math.max(maxGap(rows), maxGap(cols));
      const overlap = rows.length === 1 && cols.length === 1 ? 1 : 1 - gap / s;
      scales.push({ size: s, rows, cols, start: count, overlap });
      count += rows.length * cols.length;
    }
    const boxes = new Float32Array(count * 4);
    const scaleOf = new Uint8Array(count);
    const mask = new Uint8Array(H * W);
    let areaSum = 0;
    let k = 0;
    scales.forEach((sc, si) => {
      for (const r of sc.rows) {
        for (const c of sc.cols) {
          boxes[4 * k] = r;
          boxes[4 * k + 1] = c;
          boxes[4 * k + 2] = r + sc.size;
          boxes[4 * k + 3] = c + sc.size;
          scaleOf[k] = si;
          areaSum += sc.size * sc.size;
          k++;
        }
      }
      // The union of one scale's patches is (union of row spans) x (union of column spans).
      const rowMask = new Uint8Array(H);
      const colMask = new Uint8Array(W);
      for (const r of sc.rows) rowMask.fill(1, r, r + sc.size);
      for (const c of sc.cols) colMask.fill(1, c, c + sc.size);
      for (let y = 0; y < H; y++) {
        if (!rowMask[y]) continue;
        for (let x = 0; x < W; x++) if (colMask[x]) mask[y * W + x] = 1;
      }
    });
    let covered = 0;
    for (let i = 0; i < mask.length; i++) covered += mask[i];
    const grid: PatchGrid = {
      height: H,
      width: W,
      count,
      boxes,
      scaleOf,
      scales,
      coverage: covered / (H * W),
      density: areaSum / (H * W),
      minOverlap: Math.min(...scales.map((s) => s.overlap)),
    };
    this.cache.set(key, grid);
    return grid;
  }

  /**
   * Labels the patches of `grid` against the objects of one image with Oquab's rule; see {@link labelPatches}.
   *
   * @example
   * ```ts
   * const labels = sampler.label(grid, [{ box: [10, 10, 38, 38], label: 3 }], { numClasses: 10 });
   * labels.positives; // patches labelled 3
   * ```
   */
  label(grid: PatchGrid, objects: readonly LabelledBox[], options: LabelOptions): PatchLabels {
    return labelPatches(grid.boxes, objects, {
      ...options,
      imageSize: { height: grid.height, width: grid.width },
    });
  }
}
