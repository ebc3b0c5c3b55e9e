/**
 * SVG heat maps (confusion matrices, class-similarity matrices) with optional outlined blocks, e.g. the clusters of
 * confusable classes that Hinton et al.'s specialists cover.
 *
 * @module
 */
import { checkNonEmptyArray, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { type ColormapName, colormap, escapeXml, formatNumber, rgbHex } from './svg.js';

/** A rectangle of cells to outline in a {@link heatMap}. */
export interface HeatMapRect {
  /** Rows `[first, end)` (end exclusive). */
  rows: [number, number];
  /** Columns `[first, end)` (end exclusive). */
  cols: [number, number];
  /** Tooltip text of the outline. */
  label?: string;
  /** CSS colour of the outline. @default '#ff2d55' */
  color?: string;
}

/** A square block on the diagonal (rows and columns `[start, end)`), e.g. one cluster of classes. */
export interface HeatMapDiagonalBlock {
  /** First row and column of the block. */
  start: number;
  /** One past the last row and column. */
  end: number;
  /** Tooltip text of the outline. */
  label?: string;
  /** CSS colour of the outline. @default '#ff2d55' */
  color?: string;
}

/** A block to outline: a rectangle or a diagonal block. */
export type HeatMapBlock = HeatMapRect | HeatMapDiagonalBlock;

/** Options of {@link heatMap}. */
export interface HeatMapOptions {
  /** The matrix, row by row (all rows of equal length). */
  values: readonly (readonly number[])[];
  /** Label of each row (left). */
  rowLabels?: readonly string[];
  /** Label of each column (top). */
  colLabels?: readonly string[];
  /** Title above the map. */
  title?: string;
  /**
   * Side of one cell in pixels.
   * @default 18
   */
  cellSize?: number;
  /** Value mapped to the low end of the colour map. @default the minimum */
  min?: number;
  /** Value mapped to the high end. @default the maximum */
  max?: number;
  /**
   * Colour map.
   * @default 'viridis'
   */
  colormap?: ColormapName;
  /** Blocks to outline (e.g. clusters, in the row/column order given). */
  blocks?: readonly HeatMapBlock[];
  /**
   * Print each value in its cell (only sensible for small matrices).
   * @default false
   */
  showValues?: boolean;
}

/** The known keys of {@link HeatMapOptions}. */
const HEAT_MAP_OPTION_KEYS = knownKeys<HeatMapOptions>({
  values: true,
  rowLabels: true,
  colLabels: true,
  title: true,
  cellSize: true,
  min: true,
  max: true,
  colormap: true,
  blocks: true,
  showValues: true,
});

/**
 * A heat map of a matrix as an SVG string, with row/column labels, a colour bar and optional outlined blocks.
 *
 * @throws {@link InvalidArgumentError} for ragged rows, label arrays of the wrong length or blocks out of range
 * @example
 * ```ts
 * const svg = heatMap({
 *   values: confusion, rowLabels: names, colLabels: names,
 *   blocks: [{ start: 0, end: 3, label: 'cluster 1' }],
 * });
 * ```
 */
export function heatMap(options: HeatMapOptions): string {
  const fn = 'heatMap';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, HEAT_MAP_OPTION_KEYS);
  checkNonEmptyArray(fn, 'options.values', opts.values);
  const rows = opts.values.length;
  const cols = opts.values[0]?.length ?? 0;
  opts.values.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== cols || cols === 0) {
      throw new InvalidArgumentError(fn, `options.values[${i}]`, `a row of ${cols} numbers`, r);
    }
  });
  if (opts.rowLabels !== undefined && opts.rowLabels.length !== rows) {
    throw new InvalidArgumentError(fn, 'options.rowLabels', `${rows} labels`, opts.rowLabels);
  }
  if (opts.colLabels !== undefined && opts.colLabels.length !== cols) {
    throw new InvalidArgumentError(fn, 'options.colLabels', `${cols} labels`, opts.colLabels);
  }
  const blocks = (opts.blocks ?? []).map((b, i) => {
    const r = 'start' in b ? [b.start, b.end] : b.rows;
    const c = 'start' in b ? [b.start, b.end] : b.cols;
    const ok =
      Number.isInteger(r[0]) &&
      Number.isInteger(r[1]) &&
      Number.isInteger(c[0]) &&
      Number.isInteger(c[1]) &&
      r[0] >= 0 &&
      r[0] < r[1] &&
      r[1] <= rows &&
      c[0] >= 0 &&
      c[0] < c[1] &&
      c[1] <= cols;
    if (!ok) {
      throw new InvalidArgumentError(
        fn,
        `options.blocks[${i}]`,
        `a block inside the ${rows}x${cols} matrix`,
        b,
      );
    }
    return { r, c, label: b.label, color: b.color ?? '#ff2d55' };
  });
  const flat = opts.values.flatMap((r) => [...r]).filter(Number.isFinite);
  const lo = opts.min ?? (flat.length ? Math.min(...flat) : 0);
  const hi = opts.max ?? (flat.length ? Math.max(...flat) : 1);
  const cmap = opts.colormap ?? 'viridis';
  const cell = opts.cellSize ?? 18;
  const rowLabelW = opts.rowLabels
    ? Math.min(140, 8 + 6.5 * Math.max(...opts.rowLabels.map((l) => l.length)))
    : 8;
  const colLabelH = opts.colLabels
    ? Math.min(120, 10 + 6 * Math.max(...opts.colLabels.map((l) => l.length)))
    : 8;
  const top = (opts.title ? 26 : 6) + colLabelH;
  const left = rowLabelW;
  const barW = 64;
  const width = Math.max(left + cols * cell + 16 + barW, opts.title ? left + 7.5 * opts.title.length + 8 : 0);
  const height = Math.max(top + rows * cell + 8, top + 110);
  const f = (v: number) => v.toFixed(1);
  const norm = (v: number) => (hi === lo ? 0.5 : (v - lo) / (hi - lo));
  const svg: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f(width)}" height="${f(height)}" viewBox="0 0 ${f(width)} ${f(height)}" font-family="system-ui, sans-serif" font-size="10">`,
    `<rect x="0" y="0" width="${f(width)}" height="${f(height)}" fill="#ffffff"/>`,
  ];
  if (opts.title) {
    svg.push(`<text x="${f(left)}" y="16" font-size="13" font-weight="600">${escapeXml(opts.title)}</text>`);
  }
  opts.values.forEach((r, i) => {
    r.forEach((v, j) => {
      const fill = Number.isFinite(v) ? rgbHex(colormap(cmap, norm(v))) : '#cccccc';
      const label = `${opts.rowLabels?.[i] ?? i} / ${opts.colLabels?.[j] ?? j}: ${formatNumber(v)}`;
      svg.push(
        `<rect x="${f(left + j * cell)}" y="${f(top + i * cell)}" width="${cell}" height="${cell}" fill="${fill}"><title>${escapeXml(label)}</title></rect>`,
      );
      if (opts.showValues) {
        const dark = norm(v) < 0.6 && cmap !== 'diverging';
        svg.push(
          `<text x="${f(left + (j + 0.5) * cell)}" y="${f(top + (i + 0.5) * cell + 3)}" text-anchor="middle" font-size="${Math.max(6, Math.floor(cell / 3))}" fill="${dark ? '#fff' : '#000'}">${escapeXml(formatNumber(v, 2))}</text>`,
        );
      }
    });
  });
  opts.rowLabels?.forEach((l, i) => {
    svg.push(
      `<text x="${f(left - 4)}" y="${f(top + (i + 0.5) * cell + 3)}" text-anchor="end">${escapeXml(l)}</text>`,
    );
  });
  opts.colLabels?.forEach((l, j) => {
    const x = left + (j + 0.5) * cell;
    svg.push(
      `<text transform="translate(${f(x + 3)} ${f(top - 4)}) rotate(-60)" text-anchor="start">${escapeXml(l)}</text>`,
    );
  });
  for (const b of blocks) {
    svg.push(
      `<rect x="${f(left + b.c[0] * cell)}" y="${f(top + b.r[0] * cell)}" width="${f((b.c[1] - b.c[0]) * cell)}" height="${f((b.r[1] - b.r[0]) * cell)}" fill="none" stroke="${escapeXml(b.color)}" stroke-width="2">${b.label ? `<title>${escapeXml(b.label)}</title>` : ''}</rect>`,
    );
  }
  // Colour bar.
  const bx = left + cols * cell + 16;
  const steps = 20;
  for (let s = 0; s < steps; s++) {
    const t = 1 - s / (steps - 1);
    svg.push(
      `<rect x="${f(bx)}" y="${f(top + s * 5)}" width="12" height="5" fill="${rgbHex(colormap(cmap, t))}"/>`,
    );
  }
  svg.push(
    `<text x="${f(bx + 16)}" y="${f(top + 8)}">${escapeXml(formatNumber(hi, 3))}</text>`,
    `<text x="${f(bx + 16)}" y="${f(top + steps * 5)}">${escapeXml(formatNumber(lo, 3))}</text>`,
    '</svg>',
  );
  return svg.join('');
}
