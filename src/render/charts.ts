/**
 * Dependency-free SVG charts for the report and the docs: line charts with several series, error bars and a
 * legend (learning curves, accuracy against layer or number of examples), and grouped bar charts.
 *
 * @module
 */
import { checkNonEmptyArray, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { escapeXml, formatNumber, niceTicks, PALETTE } from './svg.js';

/** One series of a {@link lineChart}. */
export interface LineSeries {
  /** Legend entry. */
  name: string;
  /** X values (same length as `y`). */
  x: readonly number[];
  /** Y values; `NaN` leaves a gap. */
  y: readonly number[];
  /** Half-length of an error bar at each point (e.g. a standard deviation), optional. */
  err?: readonly number[];
  /** CSS colour; default from the palette. */
  color?: string;
  /** Draw the line dashed. */
  dashed?: boolean;
}

/** Options shared by the charts. */
export interface ChartFrame {
  /** Title above the plot. */
  title?: string;
  /** Label of the x axis. */
  xLabel?: string;
  /** Label of the y axis. */
  yLabel?: string;
  /**
   * Width of the SVG in pixels.
   * @default 480
   */
  width?: number;
  /**
   * Height of the SVG in pixels.
   * @default 300
   */
  height?: number;
  /** Lower end of the y axis. @default from the data */
  yMin?: number;
  /** Upper end of the y axis. @default from the data */
  yMax?: number;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions extends ChartFrame {
  /** The series to draw. */
  series: readonly LineSeries[];
  /** Lower end of the x axis. @default from the data */
  xMin?: number;
  /** Upper end of the x axis. @default from the data */
  xMax?: number;
  /** Explicit x tick values (e.g. the layer indices). @default round values */
  xTicks?: readonly number[];
  /**
   * Draw a marker at each point.
   * @default true
   */
  markers?: boolean;
}

const M = { top: 34, right: 16, bottom: 46, left: 58 };

interface Frame {
  svg: string[];
  sx: (v: number) => number;
  sy: (v: number) => number;
  plotW: number;
  plotH: number;
  width: number;
  height: number;
}

function frame(
  opts: ChartFrame,
  xr: [number, number],
  yr: [number, number],
  xTicks: readonly number[] | undefined,
  xCategories?: readonly string[],
): Frame {
  const width = opts.width ?? 480;
  const height = opts.height ?? 300;
  const plotW = width - M.left - M.right;
  const plotH = height - M.top - M.bottom;
  const [x0, x1] = xr[0] === xr[1] ? [xr[0] - 1, xr[1] + 1] : xr;
  const [y0, y1] = yr[0] === yr[1] ? [yr[0] - 1, yr[1] + 1] : yr;
  const sx = (v: number) => M.left + ((v - x0) / (x1 - x0)) * plotW;
  const sy = (v: number) => M.top + plotH - ((v - y0) / (y1 - y0)) * plotH;
  const f = (v: number) => v.toFixed(1);
  const svg: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (opts.title) {
    svg.push(
      `<text x="${f(width / 2)}" y="18" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(opts.title)}</text>`,
    );
  }
  for (const t of niceTicks(y0, y1, 5).filter((t) => t >= y0 - 1e-12 && t <= y1 + 1e-12)) {
    svg.push(
      `<line x1="${M.left}" x2="${M.left + plotW}" y1="${f(sy(t))}" y2="${f(sy(t))}" stroke="#e5e5e5"/>`,
      `<text x="${M.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${escapeXml(formatNumber(t))}</text>`,
    );
  }
  if (xCategories === undefined) {
    const ticks = xTicks ?? niceTicks(x0, x1, 6).filter((t) => t >= x0 - 1e-12 && t <= x1 + 1e-12);
    for (const t of ticks) {
      svg.push(
        `<line x1="${f(sx(t))}" x2="${f(sx(t))}" y1="${M.top + plotH}" y2="${M.top + plotH + 4}" stroke="#333"/>`,
        `<text x="${f(sx(t))}" y="${M.top + plotH + 16}" text-anchor="middle">${escapeXml(formatNumber(t))}</text>`,
      );
    }
  }
  svg.push(
    `<line x1="${M.left}" x2="${M.left + plotW}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="#333"/>`,
  );
  if (opts.xLabel) {
    svg.push(
      `<text x="${f(M.left + plotW / 2)}" y="${height - 8}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`,
    );
  }
  if (opts.yLabel) {
    svg.push(
      `<text transform="translate(14 ${f(M.top + plotH / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`,
    );
  }
  return { svg, sx, sy, plotW, plotH, width, height };
}

function legend(fr: Frame, items: { name: string; color: string; dashed?: boolean }[]): void {
  if (items.length < 2 && items.every((i) => i.name === '')) return;
  // Right-aligned inside the plot, wide enough for the longest name (about 6 px per character at 11 px).
  const textW = Math.max(...items.map((it) => it.name.length)) * 6;
  const x0 = Math.max(M.left + 4, M.left + fr.plotW - 6 - textW - 24);
  fr.svg.push(
    `<rect x="${x0 - 4}" y="${M.top + 1}" width="${textW + 30}" height="${items.length * 14 + 6}" fill="#ffffff" fill-opacity="0.85"/>`,
  );
  items.forEach((it, i) => {
    const y = M.top + 8 + i * 14;
    fr.svg.push(
      `<line x1="${x0}" x2="${x0 + 18}" y1="${y}" y2="${y}" stroke="${escapeXml(it.color)}" stroke-width="2"${it.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${x0 + 22}" y="${y + 4}">${escapeXml(it.name)}</text>`,
    );
  });
}

function range(values: number[], lo?: number, hi?: number): [number, number] {
  const finite = values.filter(Number.isFinite);
  const min = lo ?? (finite.length ? Math.min(...finite) : 0);
  const max = hi ?? (finite.length ? Math.max(...finite) : 1);
  return [min, max];
}

/** The known keys of {@link LineChartOptions}. */
const LINE_CHART_OPTION_KEYS = knownKeys<LineChartOptions>({
  series: true,
  xMin: true,
  xMax: true,
  xTicks: true,
  markers: true,
  title: true,
  xLabel: true,
  yLabel: true,
  width: true,
  height: true,
  yMin: true,
  yMax: true,
});

/**
 * A line chart of several series with optional error bars, a legend, axis labels and a title, as an SVG string.
 *
 * @throws {@link InvalidArgumentError} when a series' arrays differ in length or no series is given
 * @example
 * ```ts
 * const svg = lineChart({
 *   title: 'Learning curve', xLabel: 'epoch', yLabel: 'accuracy',
 *   series: [
 *     { name: 'train', x: [1, 2, 3], y: [0.9, 0.95, 0.97] },
 *     { name: 'test', x: [1, 2, 3], y: [0.88, 0.93, 0.95], err: [0.01, 0.01, 0.005] },
 *   ],
 * });
 * ```
 */
export function lineChart(options: LineChartOptions): string {
  const fn = 'lineChart';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, LINE_CHART_OPTION_KEYS);
  checkNonEmptyArray(fn, 'options.series', opts.series);
  opts.series.forEach((s, i) => {
    if (!Array.isArray(s.x) || !Array.isArray(s.y) || s.x.length !== s.y.length) {
      throw new InvalidArgumentError(fn, `options.series[${i}]`, 'x and y arrays of equal length', s);
    }
    if (s.err !== undefined && (!Array.isArray(s.err) || s.err.length !== s.y.length)) {
      throw new InvalidArgumentError(fn, `options.series[${i}].err`, `${s.y.length} values`, s.err);
    }
  });
  const xs = opts.series.flatMap((s) => [...s.x]);
  const ys = opts.series.flatMap((s) =>
    s.y.flatMap((y, i) => (s.err ? [y - Math.abs(s.err[i] ?? 0), y + Math.abs(s.err[i] ?? 0)] : [y])),
  );
  const fr = frame(opts, range(xs, opts.xMin, opts.xMax), range(ys, opts.yMin, opts.yMax), opts.xTicks);
  const f = (v: number) => v.toFixed(1);
  const items = opts.series.map((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    let d = '';
    let pen = false;
    s.x.forEach((x, j) => {
      const y = s.y[j];
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${f(fr.sx(x))} ${f(fr.sy(y))}`;
      pen = true;
    });
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : '';
    if (d) fr.svg.push(`<path d="${d}" fill="none" stroke="${escapeXml(color)}" stroke-width="2"${dash}/>`);
    s.x.forEach((x, j) => {
      const y = s.y[j];
      if (!Number.isFinite(x) || !Number.isFinite(y)) return;
      const e = s.err ? Math.abs(s.err[j] ?? 0) : 0;
      if (e > 0) {
        const [a, b] = [fr.sy(y - e), fr.sy(y + e)];
        fr.svg.push(
          `<path d="M${f(fr.sx(x))} ${f(a)}V${f(b)}M${f(fr.sx(x) - 3)} ${f(a)}h6M${f(fr.sx(x) - 3)} ${f(b)}h6" stroke="${escapeXml(color)}" fill="none"/>`,
        );
      }
      if (opts.markers ?? true) {
        fr.svg.push(
          `<circle cx="${f(fr.sx(x))}" cy="${f(fr.sy(y))}" r="2.5" fill="${escapeXml(color)}"><title>${escapeXml(`${s.name}: (${formatNumber(x)}, ${formatNumber(y)}${e > 0 ? ` ± ${formatNumber(e)}` : ''})`)}</title></circle>`,
        );
      }
    });
    return { name: s.name, color, dashed: s.dashed };
  });
  legend(fr, items);
  fr.svg.push('</svg>');
  return fr.svg.join('');
}

/** One series (a colour) of a {@link barChart}: a value per category. */
export interface BarSeries {
  /** Legend entry. */
  name: string;
  /** One value per category. */
  values: readonly number[];
  /** Half-length of an error bar per category, optional. */
  err?: readonly number[];
  /** CSS colour; default from the palette. */
  color?: string;
}

/** Options of {@link barChart}. */
export interface BarChartOptions extends ChartFrame {
  /** Category labels along the x axis. */
  categories: readonly string[];
  /** One or more series, drawn as grouped bars. */
  series: readonly BarSeries[];
}

/** The known keys of {@link BarChartOptions}. */
const BAR_CHART_OPTION_KEYS = knownKeys<BarChartOptions>({
  categories: true,
  series: true,
  title: true,
  xLabel: true,
  yLabel: true,
  width: true,
  height: true,
  yMin: true,
  yMax: true,
});

/**
 * A grouped bar chart (categories along x, one bar per series), with optional error bars, as an SVG string.
 * The y axis starts at 0 unless `yMin` says otherwise.
 *
 * @example
 * ```ts
 * const svg = barChart({
 *   categories: ['teacher', 'student', 'distilled'],
 *   series: [{ name: 'test errors', values: [67, 146, 74] }],
 *   yLabel: 'errors',
 * });
 * ```
 */
export function barChart(options: BarChartOptions): string {
  const fn = 'barChart';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, BAR_CHART_OPTION_KEYS);
  checkNonEmptyArray(fn, 'options.categories', opts.categories);
  checkNonEmptyArray(fn, 'options.series', opts.series);
  const nc = opts.categories.length;
  opts.series.forEach((s, i) => {
    if (!Array.isArray(s.values) || s.values.length !== nc) {
      throw new InvalidArgumentError(
        fn,
        `options.series[${i}].values`,
        `${nc} values (one per category)`,
        s.values,
      );
    }
    if (s.err !== undefined && (!Array.isArray(s.err) || s.err.length !== nc)) {
      throw new InvalidArgumentError(fn, `options.series[${i}].err`, `${nc} values`, s.err);
    }
  });
  const ys = opts.series.flatMap((s) => s.values.map((v, i) => v + Math.abs(s.err?.[i] ?? 0)));
  const [, hi] = range(ys, undefined, opts.yMax);
  const lo = opts.yMin ?? Math.min(0, ...opts.series.flatMap((s) => [...s.values]).filter(Number.isFinite));
  const fr = frame(opts, [0, nc], [lo, hi], undefined, opts.categories);
  const f = (v: number) => v.toFixed(1);
  const group = fr.plotW / nc;
  const barW = (group * 0.8) / opts.series.length;
  const base = fr.sy(Math.max(lo, 0));
  opts.categories.forEach((c, ci) => {
    fr.svg.push(
      `<text x="${f(fr.sx(ci + 0.5))}" y="${M.top + fr.plotH + 16}" text-anchor="middle">${escapeXml(c)}</text>`,
    );
  });
  const items = opts.series.map((s, si) => {
    const color = s.color ?? PALETTE[si % PALETTE.length];
    s.values.forEach((v, ci) => {
      if (!Number.isFinite(v)) return;
      const x = fr.sx(ci) + group * 0.1 + si * barW;
      const top = Math.min(fr.sy(v), base);
      const h = Math.abs(fr.sy(v) - base);
      fr.svg.push(
        `<rect x="${f(x)}" y="${f(top)}" width="${f(Math.max(barW - 1, 1))}" height="${f(h)}" fill="${escapeXml(color)}"><title>${escapeXml(`${s.name} / ${opts.categories[ci]}: ${formatNumber(v)}`)}</title></rect>`,
      );
      const e = Math.abs(s.err?.[ci] ?? 0);
      if (e > 0) {
        const cx = x + barW / 2;
        fr.svg.push(
          `<path d="M${f(cx)} ${f(fr.sy(v - e))}V${f(fr.sy(v + e))}M${f(cx - 3)} ${f(fr.sy(v - e))}h6M${f(cx - 3)} ${f(fr.sy(v + e))}h6" stroke="#222" fill="none"/>`,
        );
      }
    });
    return { name: s.name, color };
  });
  if (opts.series.length > 1) legend(fr, items);
  fr.svg.push('</svg>');
  return fr.svg.join('');
}
