/**
 * A per-layer figure laid out like Zeiler & Fergus's fig. 2: for each feature map, its top-k projections (signed,
 * zero = grey) beside the image patches that caused them. Browser-safe; built on `toRgbaGrid` (src/render), encode it
 * with `transferkit/node`'s PNG helpers.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkOptionKeys, checkOptions, checkTensor, knownKeys } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { type ImageGrid, type RgbaImage, toRgbaGrid } from '../render/image.js';
import type { TopKResult } from './topk.js';

/** Options of {@link topKFigure}. */
export interface TopKFigureOptions {
  /**
   * Channel blocks per row of the figure.
   * @default ceil(sqrt(channels))
   */
  columns?: number;
  /**
   * Integer upscaling of every tile.
   * @default 2
   */
  scale?: number;
  /**
   * How many of the ranked channels to show (the first ones of `result.channels`).
   * @default all
   */
  maxChannels?: number;
}

/** Places `b` right of `a` (same height) with `gap` background pixels between. */
function hstack(a: RgbaImage, b: RgbaImage, gap: number, bg: number[]): RgbaImage {
  const width = a.width + gap + b.width;
  const height = Math.max(a.height, b.height);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set(bg, i * 4);
  for (let y = 0; y < a.height; y++)
    data.set(a.data.subarray(y * a.width * 4, (y + 1) * a.width * 4), y * width * 4);
  for (let y = 0; y < b.height; y++) {
    data.set(b.data.subarray(y * b.width * 4, (y + 1) * b.width * 4), (y * width + a.width + gap) * 4);
  }
  return { width, height, data };
}

/** The known keys of {@link TopKFigureOptions}. */
const TOP_K_FIGURE_OPTION_KEYS = knownKeys<TopKFigureOptions>({
  columns: true,
  scale: true,
  maxChannels: true,
});

/**
 * Renders a {@link TopKResult} as one RGBA figure (the paper's fig. 2 for one layer): a cell per channel with a
 * `ceil(sqrt(k))`-column grid of projections (each normalised on its own, symmetric around grey) beside the grid of
 * the image patches (each stretched to its own range).
 *
 * @example
 * ```ts
 * const top = await dn.topK(images, { layer: 'conv1', k: 9 });
 * const fig = await topKFigure(top, { scale: 2 });
 * // in Node: fs.writeFileSync('conv1.png', encodePng(fig));
 * ```
 */
export async function topKFigure(result: TopKResult, options?: TopKFigureOptions): Promise<ImageGrid> {
  const fn = 'topKFigure';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, TOP_K_FIGURE_OPTION_KEYS);
  if (typeof result !== 'object' || result === null || result.projections === undefined) {
    throw new InvalidArgumentError(fn, 'result', 'the result of Deconvnet.topK', result);
  }
  checkTensor(fn, 'result.projections', result.projections, { rank: 5 });
  checkTensor(fn, 'result.patches', result.patches, { rank: 5 });
  const [allCh, k, h, w, c] = result.projections.shape;
  if (c !== 1 && c !== 3) {
    throw new InvalidArgumentError(
      fn,
      'result.projections',
      'projections of images with 1 or 3 channels',
      result.projections,
    );
  }
  const ch = opts.maxChannels ?? allCh;
  checkInteger(fn, 'options.maxChannels', ch, 1, allCh);
  const scale = opts.scale ?? 2;
  checkInteger(fn, 'options.scale', scale, 1, 64);
  const [pv, qv] = await Promise.all([result.projections.data(), result.patches.data()]);
  const per = k * h * w * c;
  const inner = Math.ceil(Math.sqrt(k));
  const bg = [230, 230, 230, 255];
  const cells: RgbaImage[] = [];
  for (let i = 0; i < ch; i++) {
    const tiles = { count: k, height: h, width: w, channels: c as 1 | 3 };
    const p = toRgbaGrid(
      { ...tiles, data: pv.subarray(i * per, (i + 1) * per) },
      { cols: inner, pad: 1, scale, normalize: 'symmetric' },
    );
    const q = toRgbaGrid(
      { ...tiles, data: qv.subarray(i * per, (i + 1) * per) },
      { cols: inner, pad: 1, scale, normalize: 'tile' },
    );
    cells.push(hstack(p, q, 2, bg));
  }
  const cw = cells[0].width;
  const chh = cells[0].height;
  const data = new Float32Array(ch * cw * chh * 3);
  cells.forEach((cell, i) => {
    for (let p = 0; p < cw * chh; p++) {
      for (let j = 0; j < 3; j++) data[(i * cw * chh + p) * 3 + j] = cell.data[p * 4 + j] / 255;
    }
  });
  const cols = opts.columns ?? Math.ceil(Math.sqrt(ch));
  checkInteger(fn, 'options.columns', cols, 1);
  return toRgbaGrid(
    { data, count: ch, height: chh, width: cw, channels: 3 },
    { cols, pad: 4, normalize: 'none' },
  );
}

/**
 * Reads `[N, H, W]` maps (e.g. occlusion probabilities) into one flat array per image (the tensor is not disposed).
 *
 * @example
 * ```ts
 * const [first] = await mapsToArrays(occ.probability);
 * ```
 */
export async function mapsToArrays(maps: tf.Tensor3D): Promise<Float32Array[]> {
  checkTensor('mapsToArrays', 'maps', maps, { rank: 3 });
  const v = (await maps.data()) as Float32Array;
  const [n, h, w] = maps.shape;
  return Array.from({ length: n }, (_, i) => v.slice(i * h * w, (i + 1) * h * w));
}
