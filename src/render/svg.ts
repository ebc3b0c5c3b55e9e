/**
 * Small helpers shared by the SVG builders: escaping, number formatting, "nice" axis ticks and a colour palette.
 * Plain strings, no DOM, so they run in Node and in browsers alike.
 *
 * @module
 */

/**
 * Escapes text for use in SVG/HTML content and attribute values.
 *
 * @example
 * ```ts
 * escapeXml('a < b & "c"'); // 'a &lt; b &amp; &quot;c&quot;'
 * ```
 */
export function escapeXml(text: unknown): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Formats a number for a label: up to `digits` significant digits, no trailing zeros, `-0` as `0`.
 *
 * @example
 * ```ts
 * formatNumber(0.123456); // '0.1235'
 * ```
 */
export function formatNumber(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const s = Number(v.toPrecision(digits));
  return Object.is(s, -0) ? '0' : String(s);
}

/**
 * About `count` evenly spaced round tick values (steps of 1, 2 or 5 times a power of ten) covering [lo, hi].
 *
 * @example
 * ```ts
 * niceTicks(0, 0.97, 5); // [0, 0.2, 0.4, 0.6, 0.8, 1]
 * ```
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let t = start; t <= hi + step * 0.5 + 1e-12; t += step) {
    ticks.push(Number(t.toPrecision(12)));
    if (ticks.length > 50) break;
  }
  return ticks;
}

/** A colour-blind-friendly categorical palette (Okabe-Ito). */
export const PALETTE: readonly string[] = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#000000',
];

/** Continuous colour maps for heat maps and single-channel images. */
export type ColormapName = 'viridis' | 'greys' | 'diverging';

const VIRIDIS: [number, number, number][] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];
const DIVERGING: [number, number, number][] = [
  [33, 102, 172],
  [103, 169, 207],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [239, 138, 98],
  [178, 24, 43],
];

/**
 * Maps `t` in [0, 1] (clamped) to an RGB colour of the named map. `greys` goes black to white; `diverging` goes
 * blue (0) through white (0.5) to red (1).
 *
 * @example
 * ```ts
 * colormap('viridis', 1); // [253, 231, 37]
 * ```
 */
export function colormap(name: ColormapName, t: number): [number, number, number] {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  if (name === 'greys') {
    const v = Math.round(x * 255);
    return [v, v, v];
  }
  const stops = name === 'diverging' ? DIVERGING : VIRIDIS;
  const f = x * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(f));
  const w = f - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * w)) as [number, number, number];
}

/** `#rrggbb` for an RGB triple. */
export function rgbHex([r, g, b]: [number, number, number]): string {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}
