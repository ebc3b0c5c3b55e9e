import { escapeXml, formatNumber } from '../internal.js';
/**
 * HTML building blocks for report sections: tables, the "paper vs. ours" claims table, figures and notes. Every
 * function escapes its text; pass SVG markup or `data:` URIs for figures. Sections import these so the report
 * looks the same throughout.
 *
 * @module
 */

/** A table cell: text (escaped), a number (formatted), or `{ html }` for trusted markup. */
export type Cell = string | number | null | undefined | { html: string };

function cell(c: Cell): string {
  if (c === null || c === undefined) return '';
  if (typeof c === 'number') return escapeXml(formatNumber(c));
  if (typeof c === 'object') return c.html;
  return escapeXml(c);
}

/**
 * An HTML table with a header row (omitted when every header is empty, for key-value tables).
 *
 * @example
 * ```ts
 * table(['layer', 'accuracy'], [['conv1', 0.91], ['fc1', 0.97]], 'Linear SVM on each layer');
 * ```
 */
export function table(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  caption?: string,
): string {
  const head = headers.every((h) => h === '')
    ? ''
    : `<thead><tr>${headers.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead>`;
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`).join('');
  const cap = caption ? `<caption>${escapeXml(caption)}</caption>` : '';
  return `<table>${cap}${head}<tbody>${body}</tbody></table>`;
}

/** One line of a {@link claimsTable}: what the paper reported beside what transferkit measured here. */
export interface Claim {
  /** The claim or quantity, e.g. "DeCAF6 + SVM, Caltech-101, 30 train/class". */
  claim: string;
  /** The paper's figure, as printed (e.g. "86.9%"). */
  paper: Cell;
  /** Our figure at small scale (e.g. "93.1% ± 0.4 (3 seeds)"). */
  ours: Cell;
  /** Whether the qualitative claim held here. */
  holds?: boolean;
  /** The verdict read from an interval (src/report/stats.ts); takes precedence over `holds`. */
  verdict?: 'holds' | 'does not hold' | 'inconclusive';
  /** What differs (data, scale, architecture). */
  note?: string;
}

/**
 * The table that stands the paper's claims beside our numbers.
 *
 * @example
 * ```ts
 * claimsTable([{ claim: 'Test accuracy (MNIST)', paper: '—', ours: '98.1%', holds: true }]);
 * ```
 */
export function claimsTable(claims: readonly Claim[]): string {
  const rows = claims.map((c) => [
    c.claim,
    c.paper,
    c.ours,
    c.verdict !== undefined
      ? {
          html:
            c.verdict === 'holds'
              ? '<span class="ok">holds</span>'
              : c.verdict === 'does not hold'
                ? '<span class="no">does not hold</span>'
                : '<span class="na">inconclusive</span>',
        }
      : c.holds === undefined
        ? ''
        : { html: c.holds ? '<span class="ok">holds</span>' : '<span class="no">does not hold</span>' },
    c.note ?? '',
  ]);
  return `<div class="claims">${table(['claim', 'paper', 'here', 'verdict', 'what differs'], rows)}</div>`;
}

/**
 * A figure: inline SVG markup, or an image URI (`data:` only, the report is self-contained), with a caption.
 *
 * @example
 * ```ts
 * figure(lineChart({ series }), 'Learning curve');
 * figure({ src: pngDataUri(grid), alt: 'top-9 patches' }, 'Layer 2');
 * ```
 */
export function figure(
  content: string | { src: string; alt: string; width?: number },
  caption?: string,
): string {
  const inner =
    typeof content === 'string'
      ? content
      : `<img src="${escapeXml(content.src)}" alt="${escapeXml(content.alt)}"${content.width ? ` width="${content.width}"` : ''}>`;
  return `<figure>${inner}${caption ? `<figcaption>${escapeXml(caption)}</figcaption>` : ''}</figure>`;
}

/** A paragraph of escaped text. */
export function paragraph(text: string): string {
  return `<p>${escapeXml(text)}</p>`;
}

/** A highlighted note (e.g. "what differs at this scale"). */
export function note(text: string): string {
  return `<p class="note">${escapeXml(text)}</p>`;
}

/**
 * A percentage with `digits` decimals, e.g. `pct(0.9712) === '97.12%'`.
 *
 * @example
 * ```ts
 * pct(0.5); // '50.00%'
 * ```
 */
export function pct(v: number, digits = 2): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(digits)}%` : String(v);
}

/**
 * Mean and sample standard deviation, formatted as `mean ± sd` with `format` (e.g. {@link pct}).
 *
 * @example
 * ```ts
 * meanSd([0.9, 0.92, 0.91], pct); // '91.00% ± 1.00%'
 * ```
 */
export function meanSd(
  values: readonly number[],
  format: (v: number) => string = (v) => formatNumber(v),
): string {
  if (values.length === 0) return '';
  const m = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return format(m);
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
  return `${format(m)} ± ${format(sd)}`;
}

/** Options of {@link image}. */
export interface ImageOptions {
  /** Image URI (`data:` only: the report is self-contained). */
  src: string;
  /** Alternative text. */
  alt: string;
  /** Displayed width in CSS pixels. */
  width?: number;
  /** Displayed height in CSS pixels. */
  height?: number;
  /**
   * Scale without smoothing (for small maps shown enlarged).
   * @default false
   */
  pixelated?: boolean;
}

/**
 * An `<img>` element with escaped attributes.
 *
 * @example
 * ```ts
 * image({ src: pngDataUri(map), alt: 'localisation map of 3', width: 192, height: 192, pixelated: true });
 * ```
 */
export function image(options: ImageOptions): string {
  const { src, alt, width, height, pixelated } = options;
  const size = `${width ? ` width="${Math.round(width)}"` : ''}${height ? ` height="${Math.round(height)}"` : ''}`;
  return `<img src="${escapeXml(src)}" alt="${escapeXml(alt)}"${size}${pixelated ? ' style="image-rendering:pixelated"' : ''}>`;
}

/**
 * A figure shown inline (several sit side by side) whose parts (trusted markup: SVG, {@link image}) are laid out in
 * a row, with an escaped caption.
 *
 * @example
 * ```ts
 * inlineFigure([gridSvg, image({ src, alt: 'map' })], 'digits 3, 7');
 * ```
 */
export function inlineFigure(parts: readonly string[], caption?: string): string {
  return `<figure style="display:inline-block;margin:0 12px 12px 0;vertical-align:top"><div style="display:flex;gap:6px">${parts.join('')}</div>${caption ? `<figcaption>${escapeXml(caption)}</figcaption>` : ''}</figure>`;
}
