/**
 * What a {@link finetune} run leaves for people to read: the confusion matrix as SVG and a one-page HTML summary
 * with the misclassified images.
 *
 * @module
 */
import { InvalidArgumentError } from '../core/errors.js';
import { heatMap } from '../render/heatmap.js';
import { escapeXml } from '../render/svg.js';
import type { FinetuneResult } from './types.js';

/**
 * The confusion matrix of a run (rows: true class, columns: predicted) as an SVG heat map with counts.
 *
 * @example
 * ```ts
 * const svg = confusionSvg(result.metrics.confusion, result.classNames);
 * ```
 */
export function confusionSvg(
  confusion: readonly (readonly number[])[],
  classNames: readonly string[],
): string {
  if (!Array.isArray(confusion) || confusion.length !== classNames.length) {
    throw new InvalidArgumentError(
      'confusionSvg',
      'confusion',
      `a ${classNames.length} x ${classNames.length} matrix`,
      confusion,
    );
  }
  return heatMap({
    values: confusion,
    rowLabels: classNames,
    colLabels: classNames,
    title: 'Validation confusion (rows: true, columns: predicted)',
    colormap: 'greys',
    min: 0,
    showValues: true,
    cellSize: classNames.length > 20 ? 18 : 36,
  });
}

/** A validation image shown in the summary: where it is and how to show it. */
export interface SummaryImage {
  /** Shown under the image (e.g. the file name). */
  name: string;
  /** `src` of the `<img>` (a relative path or a data: URI). */
  src: string;
}

/**
 * A self-contained HTML page summarising a run: accuracy, per-class accuracy, the epochs, the confusion matrix and
 * the misclassified validation images (at most `maxImages`), each with its true and predicted class.
 *
 * @param images one entry per validation image, in the order of `result.val` (e.g. from the file names)
 * @example
 * ```ts
 * const html = finetuneSummaryHtml(result, result.val.indices.map((i) => ({ name: files[i], src: files[i] })));
 * ```
 */
export function finetuneSummaryHtml(
  result: Pick<FinetuneResult, 'metrics' | 'classNames' | 'history' | 'val'>,
  images: readonly SummaryImage[],
  maxImages = 100,
): string {
  const { metrics: m, classNames, history, val } = result;
  if (!Array.isArray(images) || images.length !== val.labels.length) {
    throw new InvalidArgumentError(
      'finetuneSummaryHtml',
      'images',
      `${val.labels.length} images (one per validation image)`,
      Array.isArray(images) ? `${images.length} images` : images,
    );
  }
  const pct = (v: number) => (Number.isNaN(v) ? 'n/a' : `${(100 * v).toFixed(1)}%`);
  const wrong = val.labels.map((_, i) => i).filter((i) => val.predicted[i] !== val.labels[i]);
  const rows = history
    .map(
      (h) =>
        `<tr><td>${h.stage}</td><td>${h.epoch}</td><td>${h.loss.toFixed(4)}</td><td>${Number.isNaN(h.valLoss) ? 'n/a' : h.valLoss.toFixed(4)}</td><td>${pct(h.valAccuracy)}</td><td>${h.seconds.toFixed(2)}</td></tr>`,
    )
    .join('\n');
  const perClass = classNames
    .map((c, i) => `<tr><td>${escapeXml(c)}</td><td>${pct(m.perClassAccuracy[i] ?? Number.NaN)}</td></tr>`)
    .join('\n');
  const tiles = wrong
    .slice(0, maxImages)
    .map((i) => {
      const img = images[i];
      return `<figure><img src="${escapeXml(img.src)}" alt="${escapeXml(img.name)}"><figcaption>${escapeXml(img.name)}<br>true: <b>${escapeXml(classNames[val.labels[i]])}</b><br>predicted: <b>${escapeXml(classNames[val.predicted[i]])}</b> (${pct(val.confidence[i])})</figcaption></figure>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>transferkit finetune</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}figure{display:inline-block;margin:4px;font-size:12px;width:150px;vertical-align:top}img{max-width:150px;max-height:150px;image-rendering:pixelated}</style>
</head><body>
<h1>Fine-tuned classifier</h1>
<p>Validation accuracy <b>${pct(m.valAccuracy)}</b> (head only: ${pct(m.headValAccuracy)}) on ${m.counts.val} images; trained on ${m.counts.train}.
Feature layer <code>${escapeXml(m.featureLayer)}</code> (${m.featureDim}-d), input ${m.inputShape.join('x')}, ${m.unfreeze} backbone stage(s) fine-tuned.
Time: ${m.seconds.total.toFixed(1)} s (features ${m.seconds.extract.toFixed(1)} s, ${m.chunks.cached}/${m.chunks.total} chunks from the cache; head ${m.seconds.head.toFixed(1)} s; fine-tuning ${m.seconds.finetune.toFixed(1)} s).</p>
<h2>Per class</h2><table><tr><th>class</th><th>accuracy</th></tr>
${perClass}
</table>
<h2>Confusion matrix</h2>
<img src="confusion.svg" alt="confusion matrix" style="max-width:none;max-height:none">
<h2>Epochs</h2><table><tr><th>stage</th><th>epoch</th><th>loss</th><th>val loss</th><th>val acc</th><th>s</th></tr>
${rows}
</table>
<h2>Misclassified (${wrong.length}${wrong.length > maxImages ? `, first ${maxImages} shown` : ''})</h2>
${tiles || '<p>None.</p>'}
</body></html>
`;
}
