/**
 * Images as plain RGBA pixel grids: arrays or tensors of (many) small images laid out as one grid with padding,
 * normalised per tile or globally, optionally through a colour map. Browser-safe: encode to PNG with
 * `transferkit/node`'s `encodePng`, or draw with a canvas `ImageData` in a page.
 *
 * @module
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import {
  checkInteger,
  checkNonEmptyArray,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkTensor,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { type ColormapName, colormap, escapeXml } from './svg.js';

/** An RGBA image: `width * height * 4` bytes, row-major (the layout of a canvas `ImageData`). */
export interface RgbaImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** RGBA bytes. */
  data: Uint8ClampedArray;
}

/** Where one tile of an {@link ImageGrid} sits, in pixels. */
export interface TileRect {
  /** Left edge in pixels. */
  x: number;
  /** Top edge in pixels. */
  y: number;
  /** Width in pixels (tile width x scale). */
  width: number;
  /** Height in pixels (tile height x scale). */
  height: number;
}

/** An RGBA grid of tiles and the place of each tile. */
export interface ImageGrid extends RgbaImage {
  /** One rectangle per tile, in input order. */
  tiles: TileRect[];
  /** Number of grid columns. */
  cols: number;
  /** Number of grid rows. */
  rows: number;
}

/** Tiles for `toRgbaGrid`: `count` images of `height x width x channels`, row-major HWC, one flat array. */
export interface TileSet {
  /** `count * height * width * channels` values. */
  data: ArrayLike<number>;
  /** Number of tiles. */
  count: number;
  /** Tile height. */
  height: number;
  /** Tile width. */
  width: number;
  /** 1 (grey or colour-mapped) or 3 (RGB). */
  channels: 1 | 3;
}

/** Options of `toRgbaGrid`. */
export interface ImageGridOptions {
  /**
   * Columns of the grid.
   * @default ceil(sqrt(count))
   */
  cols?: number;
  /**
   * Padding between tiles and around the grid, in output pixels.
   * @default 2
   */
  pad?: number;
  /**
   * `'tile'`: stretch each tile's own min..max to 0..1; `'global'`: one min..max for all; `'none'`: values already
   * in [0, 1] (clamped); `'symmetric'`: per tile, map [-m, m] to 0..1 with m = max |value| (0 becomes mid-grey),
   * for signed maps such as deconvnet projections or gradients.
   * @default 'tile'
   */
  normalize?: 'tile' | 'global' | 'none' | 'symmetric';
  /**
   * Integer upscaling factor (nearest neighbour), so that small tiles stay visible.
   * @default 1
   */
  scale?: number;
  /**
   * Colour map for single-channel tiles.
   * @default 'greys'
   */
  colormap?: ColormapName;
  /**
   * Background (padding) colour, RGBA 0-255.
   * @default [255, 255, 255, 255]
   */
  background?: [number, number, number, number];
}

/** The known keys of {@link ImageGridOptions}. */
const IMAGE_GRID_OPTION_KEYS = knownKeys<ImageGridOptions>({
  cols: true,
  pad: true,
  normalize: true,
  scale: true,
  colormap: true,
  background: true,
});

/**
 * Lays out a set of small images as one RGBA grid (row-major tile order), with padding, per-tile or global
 * normalisation, integer upscaling and an optional colour map for single-channel tiles.
 *
 * @throws {@link InvalidArgumentError} when `data` does not hold `count * height * width * channels` values
 * @example
 * ```ts
 * const grid = toRgbaGrid({ data: pixels, count: 16, height: 28, width: 28, channels: 1 }, { cols: 8, scale: 2 });
 * grid.width; // 8 * 56 + 9 * 2 = 466
 * ```
 */
export function toRgbaGrid(tiles: TileSet, options: ImageGridOptions = {}): ImageGrid {
  const fn = 'toRgbaGrid';
  if (tiles === null || typeof tiles !== 'object') {
    throw new InvalidArgumentError(fn, 'tiles', 'a TileSet {data, count, height, width, channels}', tiles);
  }
  checkInteger(fn, 'tiles.count', tiles.count, 1);
  checkInteger(fn, 'tiles.height', tiles.height, 1);
  checkInteger(fn, 'tiles.width', tiles.width, 1);
  checkOneOf(fn, 'tiles.channels', tiles.channels, [1, 3] as const);
  const { count, height: th, width: tw, channels: ch } = tiles;
  const per = th * tw * ch;
  if (tiles.data?.length !== count * per) {
    throw new InvalidArgumentError(
      fn,
      'tiles.data',
      `${count} x ${th} x ${tw} x ${ch} = ${count * per} values`,
      tiles.data,
    );
  }
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, IMAGE_GRID_OPTION_KEYS);
  const cols = opts.cols ?? Math.ceil(Math.sqrt(count));
  checkInteger(fn, 'options.cols', cols, 1);
  const pad = opts.pad ?? 2;
  checkInteger(fn, 'options.pad', pad, 0);
  const scale = opts.scale ?? 1;
  checkInteger(fn, 'options.scale', scale, 1, 64);
  const mode = opts.normalize ?? 'tile';
  checkOneOf(fn, 'options.normalize', mode, ['tile', 'global', 'none', 'symmetric'] as const);
  const cmap = opts.colormap ?? 'greys';
  checkOneOf(fn, 'options.colormap', cmap, ['greys', 'viridis', 'diverging'] as const);
  const bg = opts.background ?? [255, 255, 255, 255];

  const rows = Math.ceil(count / cols);
  const cw = tw * scale;
  const chh = th * scale;
  const width = pad + cols * (cw + pad);
  const height = pad + rows * (chh + pad);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set(bg, i * 4);

  const stats = (start: number, end: number) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < end; i++) {
      const v = tiles.data[i];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return Number.isFinite(lo) ? [lo, hi] : [0, 1];
  };
  const global = mode === 'global' ? stats(0, count * per) : [0, 1];
  const rects: TileRect[] = [];
  for (let t = 0; t < count; t++) {
    let lo = 0;
    let hi = 1;
    if (mode === 'tile') [lo, hi] = stats(t * per, (t + 1) * per);
    else if (mode === 'global') [lo, hi] = global;
    else if (mode === 'symmetric') {
      const [a, b] = stats(t * per, (t + 1) * per);
      const m = Math.max(Math.abs(a), Math.abs(b)) || 1;
      [lo, hi] = [-m, m];
    }
    const span = hi - lo || 1;
    const x0 = pad + (t % cols) * (cw + pad);
    const y0 = pad + Math.floor(t / cols) * (chh + pad);
    rects.push({ x: x0, y: y0, width: cw, height: chh });
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const src = t * per + (y * tw + x) * ch;
        let rgb: [number, number, number];
        if (ch === 1) {
          rgb = colormap(cmap, (tiles.data[src] - lo) / span);
        } else {
          rgb = [0, 1, 2].map((k) =>
            Math.round(Math.min(1, Math.max(0, (tiles.data[src + k] - lo) / span)) * 255),
          ) as [number, number, number];
        }
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const o = ((y0 + y * scale + dy) * width + x0 + x * scale + dx) * 4;
            data[o] = rgb[0];
            data[o + 1] = rgb[1];
            data[o + 2] = rgb[2];
            data[o + 3] = 255;
          }
        }
      }
    }
  }
  return { width, height, data, tiles: rects, cols, rows };
}

/**
 * Reads an image batch tensor `[n, h, w, 1 | 3]` (or one image `[h, w, 1 | 3]`) asynchronously and lays it out
 * with `toRgbaGrid`. The tensor is not disposed.
 *
 * @example
 * ```ts
 * const grid = await tensorToRgbaGrid(mnist.test.x.slice(0, 32), { cols: 8, scale: 2 });
 * ```
 */
export async function tensorToRgbaGrid(images: Tensor, options: ImageGridOptions = {}): Promise<ImageGrid> {
  const fn = 'tensorToRgbaGrid';
  checkTensor(fn, 'images', images, { rank: [3, 4] });
  const shape = images.rank === 3 ? [1, ...images.shape] : images.shape;
  const channels = shape[3];
  if (channels !== 1 && channels !== 3) {
    throw new InvalidArgumentError(fn, 'images', 'an NHWC tensor with 1 or 3 channels', images);
  }
  checkNonEmptyArray(fn, 'images.shape', shape);
  const data = await images.data();
  return toRgbaGrid(
    { data: data as Float32Array, count: shape[0], height: shape[1], width: shape[2], channels },
    options,
  );
}

/**
 * Wraps an image (as a `data:` URI, e.g. from `pngDataUri`) of a grid in an SVG with a caption under each tile.
 *
 * @example
 * ```ts
 * const svg = labelledGridSvg(pngDataUri(grid), grid, ['7 (0.99)', '2 (0.97)', ...]);
 * ```
 */
export function labelledGridSvg(
  href: string,
  grid: Pick<ImageGrid, 'width' | 'height' | 'tiles'>,
  labels: readonly string[],
  options: { fontSize?: number } = {},
): string {
  const fn = 'labelledGridSvg';
  if (typeof href !== 'string') throw new InvalidArgumentError(fn, 'href', 'an image URI string', href);
  if (!Array.isArray(labels) || labels.length > grid.tiles.length) {
    throw new InvalidArgumentError(fn, 'labels', `at most ${grid.tiles.length} labels`, labels);
  }
  const fs = options.fontSize ?? 10;
  const rowGap = fs + 4;
  const rowsY = [...new Set(grid.tiles.map((t) => t.y))].sort((a, b) => a - b);
  const shift = (y: number) => rowsY.indexOf(y) * rowGap;
  const height = grid.height + rowsY.length * rowGap;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${grid.width}" height="${height}" viewBox="0 0 ${grid.width} ${height}" font-family="system-ui, sans-serif" font-size="${fs}">`,
    `<rect x="0" y="0" width="${grid.width}" height="${height}" fill="#ffffff"/>`,
  ];
  // Each row of tiles is drawn from the one image, pushed down to leave room for the captions.
  rowsY.forEach((y, r) => {
    const t = grid.tiles.find((tile) => tile.y === y) as TileRect;
    parts.push(
      `<svg x="0" y="${y + r * rowGap}" width="${grid.width}" height="${t.height}" viewBox="0 ${y} ${grid.width} ${t.height}"><image href="${escapeXml(href)}" width="${grid.width}" height="${grid.height}" style="image-rendering: pixelated"/></svg>`,
    );
  });
  labels.forEach((l, i) => {
    const t = grid.tiles[i];
    parts.push(
      `<text x="${t.x + t.width / 2}" y="${t.y + shift(t.y) + t.height + fs}" text-anchor="middle">${escapeXml(l)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
