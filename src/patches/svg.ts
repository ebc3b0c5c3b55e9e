/**
 * A picture of a patch grid as an SVG string (browser-safe, no tensors): the patches of chosen scales over an
 * optional image, coloured by their labels, with the objects' boxes on top.
 *
 * @module
 */
import { checkInteger, checkOptionKeys, checkOptions, checkPositive, knownKeys } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { BACKGROUND, DROPPED, type LabelledBox, type PatchLabels } from './labels.js';
import type { PatchGrid } from './sampler.js';

/**
 * Options of {@link patchGridSvg}.
 *
 * @example
 * ```ts
 * patchGridSvg(grid, { scales: [3], objects, labels, positivesOnly: true, zoom: 2 });
 * ```
 */
export interface PatchGridSvgOptions {
  /** Indices of the scales to draw (into `grid.scales`). @default every scale */
  scales?: readonly number[];
  /** An image URI (e.g. a PNG data URI) drawn under the grid, stretched to the grid's size. @default none */
  imageHref?: string;
  /** Object boxes drawn on top, with their class. @default none */
  objects?: readonly LabelledBox[];
  /** Labels of the grid's patches: positives are drawn in their class colour, dropped ones dashed. @default none */
  labels?: PatchLabels;
  /** Draw only positive patches (needs `labels`). @default false */
  positivesOnly?: boolean;
  /** Screen pixels per image pixel. @default 3 */
  zoom?: number;
}

// Okabe-Ito's eight colours (black swapped for white on dark images) and two of Tol's: one colour per digit.
const COLOURS = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#FFFFFF',
  '#882255',
  '#44AA99',
];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The known keys of {@link PatchGridSvgOptions}. */
const PATCH_GRID_SVG_OPTION_KEYS = knownKeys<PatchGridSvgOptions>({
  scales: true,
  imageHref: true,
  objects: true,
  labels: true,
  positivesOnly: true,
  zoom: true,
});

/**
 * Draws a {@link PatchGrid} as SVG: each patch as a thin square (background patches grey, positives in the colour
 * of their class, dropped patches dashed red), object boxes as thick outlines with their class.
 *
 * @throws {@link InvalidArgumentError} for a scale index outside the grid or labels of another grid.
 * @example
 * ```ts
 * const grid = new PatchSampler().grid({ height: 96, width: 96 });
 * const svg = patchGridSvg(grid, { scales: [2, 5], objects: [{ box: [10, 10, 40, 40], label: 3 }] });
 * ```
 */
export function patchGridSvg(grid: PatchGrid, options?: PatchGridSvgOptions): string {
  const fn = 'patchGridSvg';
  if (typeof grid !== 'object' || grid === null || !(grid.boxes instanceof Float32Array)) {
    throw new InvalidArgumentError(fn, 'grid', 'a PatchGrid from PatchSampler.grid()', grid);
  }
  const o = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', o, PATCH_GRID_SVG_OPTION_KEYS);
  const zoom = o.zoom ?? 3;
  checkPositive(fn, 'options.zoom', zoom);
  const scales = o.scales ?? grid.scales.map((_, i) => i);
  if (!Array.isArray(scales))
    throw new InvalidArgumentError(fn, 'options.scales', 'an array of scale indices', scales);
  scales.forEach((s, i) => {
    checkInteger(fn, `options.scales[${i}]`, s, 0, grid.scales.length - 1);
  });
  const labels = o.labels;
  if (labels !== undefined && labels.count !== grid.count) {
    throw new InvalidArgumentError(
      fn,
      'options.labels',
      `labels of the grid's ${grid.count} patches`,
      labels.count,
    );
  }
  const W = grid.width * zoom;
  const H = grid.height * zoom;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="${Math.max(9, 4 * zoom)}">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
  ];
  if (o.imageHref !== undefined) {
    parts.push(
      `<image href="${esc(String(o.imageHref))}" width="${W}" height="${H}" preserveAspectRatio="none" style="image-rendering: pixelated"/>`,
    );
  }
  const wanted = new Set(scales);
  for (let p = 0; p < grid.count; p++) {
    if (!wanted.has(grid.scaleOf[p])) continue;
    const l = labels?.label[p];
    if (o.positivesOnly && (l === undefined || l === BACKGROUND || l === DROPPED)) continue;
    const [y1, x1, y2, x2] = grid.boxes.subarray(4 * p, 4 * p + 4);
    let stroke = '#9e9e9e';
    let extra = ' stroke-opacity="0.55"';
    if (l === DROPPED) {
      stroke = '#d32f2f';
      extra = ' stroke-dasharray="3 2"';
    } else if (l !== undefined && l !== BACKGROUND) {
      stroke = l >= 0 ? COLOURS[l % COLOURS.length] : '#7b1fa2';
      extra = ' stroke-opacity="0.9"';
    }
    parts.push(
      `<rect x="${x1 * zoom + 0.5}" y="${y1 * zoom + 0.5}" width="${(x2 - x1) * zoom - 1}" height="${(y2 - y1) * zoom - 1}" fill="none" stroke="${stroke}" stroke-width="1"${extra}/>`,
    );
  }
  for (const obj of o.objects ?? []) {
    const [y1, x1, y2, x2] = obj.box;
    const c = COLOURS[obj.label % COLOURS.length];
    parts.push(
      `<rect x="${x1 * zoom}" y="${y1 * zoom}" width="${(x2 - x1) * zoom}" height="${(y2 - y1) * zoom}" fill="none" stroke="${c}" stroke-width="3"/>`,
      `<text x="${x1 * zoom + 3}" y="${y1 * zoom - 3 < 10 ? y1 * zoom + 12 : y1 * zoom - 3}" fill="${c}" font-weight="bold">${obj.label}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}
