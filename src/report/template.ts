import { escapeXml } from '../internal.js';
/**
 * The report's one self-contained HTML page: inline CSS, a table of contents and one section per registered
 * report section. No script, no external resource.
 *
 * @module
 */

/** A rendered section as the template places it. */
export interface RenderedSection {
  id: string;
  title: string;
  /** The section's HTML fragment (trusted: produced by the section's `render`). */
  html: string;
  /** `ran` (computed now), `cached` (re-rendered from the cache), `failed`, `skipped` (no cache with --rerender). */
  status: 'ran' | 'cached' | 'failed' | 'skipped';
  /** Why a `skipped` section was not computed. @default no cached results with --rerender */
  reason?: string;
  /** Seconds the section's `run` took (when it ran, or when the cached result was made). */
  seconds?: number;
  /** The backend that produced the results. */
  backend?: string;
  /** The section's headline figures (for the "At a glance" table). */
  headlines?: { claim: string; paper: string; ours: string }[];
}

/** Facts shown in the page header. */
export interface ReportMeta {
  mode: string;
  seed: number;
  backend: string;
  date: string;
  node: string;
  totalSeconds: number;
  command?: string;
}

const CSS = `
:root{--fg:#1b1b1b;--muted:#5f6368;--line:#e3e3e3;--accent:#0072B2;--ok:#0a7d38;--no:#b3261e;--bg:#fff}
*{box-sizing:border-box}
body{margin:0;font:15px/1.55 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:28px 40px 16px;border-bottom:1px solid var(--line)}
header h1{margin:0 0 6px;font-size:26px}
header .meta{color:var(--muted);font-size:13px}
.layout{display:flex;align-items:flex-start}
nav{position:sticky;top:0;flex:0 0 230px;padding:20px 16px 20px 40px;font-size:14px;max-height:100vh;overflow:auto}
nav ol{padding-left:18px;margin:0}
nav li{margin:4px 0}
nav a{color:var(--accent);text-decoration:none}
main{flex:1;min-width:0;padding:8px 40px 60px 24px;max-width:1100px}
section{border-bottom:1px solid var(--line);padding:14px 0 26px}
section h2{font-size:21px;margin:14px 0 4px}
section h3{font-size:16px;margin:18px 0 6px}
.status{color:var(--muted);font-size:12px;margin-bottom:10px}
.status.failed,.status.skipped{color:var(--no)}
table{border-collapse:collapse;margin:10px 0;font-size:13.5px}
caption{text-align:left;color:var(--muted);font-size:12.5px;padding-bottom:4px}
th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f7f8;font-weight:600}
td{font-variant-numeric:tabular-nums}
.claims table{width:100%}
.ok{color:var(--ok);font-weight:600}
.no{color:var(--no);font-weight:600}
.na{color:#8a6d00;font-weight:600}
figure{margin:14px 0;display:inline-block;vertical-align:top;max-width:100%}
figure svg,figure img{max-width:100%;height:auto;border:1px solid var(--line)}
figure img{image-rendering:pixelated}
figcaption{color:var(--muted);font-size:12.5px;max-width:520px}
.note{background:#fff8e1;border-left:3px solid #e6a700;padding:6px 12px;font-size:13.5px}
pre.error{background:#fdecea;color:var(--no);padding:10px;white-space:pre-wrap;font-size:12.5px}
footer{color:var(--muted);font-size:12px;padding:16px 40px}
@media (max-width:800px){.layout{display:block}nav{position:static;padding:12px 20px}main{padding:8px 20px}}
`;

function statusLine(s: RenderedSection): string {
  const secs = s.seconds === undefined ? '' : `${s.seconds.toFixed(1)} s`;
  const on = s.backend ? ` on ${escapeXml(s.backend)}` : '';
  switch (s.status) {
    case 'ran':
      return `computed in ${secs}${on}`;
    case 'cached':
      return `re-rendered from cached results (computed in ${secs}${on})`;
    case 'failed':
      return 'failed: see the error below';
    default:
      return `not computed: ${escapeXml(s.reason ?? 'no cached results (run without --rerender)')}`;
  }
}

/**
 * Renders the whole report page.
 *
 * @example
 * ```ts
 * const html = renderReportHtml([{ id: 'foundation', title: 'Foundation', html: '<p>...</p>', status: 'ran' }], meta);
 * ```
 */
export function renderReportHtml(sections: readonly RenderedSection[], meta: ReportMeta): string {
  const toc =
    (sections.some((s) => s.headlines?.length) ? '<li><a href="#at-a-glance">At a glance</a></li>' : '') +
    sections.map((s) => `<li><a href="#${escapeXml(s.id)}">${escapeXml(s.title)}</a></li>`).join('');
  const body = sections
    .map(
      (s) =>
        `<section id="${escapeXml(s.id)}" data-status="${s.status}"><h2>${escapeXml(s.title)}</h2>` +
        `<div class="status ${s.status}">${statusLine(s)}</div>${s.html}</section>`,
    )
    .join('\n');
  const glanceRows = sections.flatMap((s) =>
    (s.headlines ?? []).map(
      (h) =>
        `<tr><td><a href="#${escapeXml(s.id)}">${escapeXml(s.title)}</a></td><td>${escapeXml(h.claim)}</td><td>${escapeXml(h.paper)}</td><td>${escapeXml(h.ours)}</td></tr>`,
    ),
  );
  const glance =
    glanceRows.length === 0
      ? ''
      : `<section id="at-a-glance" class="glance"><h2>At a glance</h2><table><thead><tr><th>section</th><th>claim</th><th>paper</th><th>here</th></tr></thead><tbody>${glanceRows.join('')}</tbody></table></section>\n`;
  const facts = [
    `mode <b>${escapeXml(meta.mode)}</b>`,
    `seed <b>${meta.seed}</b>`,
    `backend <b>${escapeXml(meta.backend)}</b>`,
    `Node ${escapeXml(meta.node)}`,
    `${escapeXml(meta.date)}`,
    `total ${meta.totalSeconds.toFixed(1)} s`,
  ].join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>transferkit report</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>transferkit: what CNNs learn and how it transfers</h1>
<div class="meta">${facts}</div></header>
<div class="layout">
<nav aria-label="Contents"><strong>Contents</strong><ol>${toc}</ol></nav>
<main>
${glance}${body}
</main>
</div>
<footer>Generated by <code>${escapeXml(meta.command ?? 'transferkit report')}</code>. Self-contained: figures are inline SVG or PNG data URIs.</footer>
</body>
</html>
`;
}
