/**
 * Renders the features section: the curve of test accuracy against labelled examples per class (95% t-intervals
 * over the draws as error bars), its table, the digit CNN's layers and MobileNetV2's normalisations, and the
 * papers' claims with verdicts read from paired intervals.
 *
 * @module
 */
import { lineChart } from '../../../index.js';
import { escapeXml, formatNumber } from '../../../internal.js';
import { type Claim, claimsTable, figure, note, paragraph, table } from '../../html.js';
import {
  formatInterval,
  type Interval,
  mean,
  pairedInterval,
  tInterval,
  type Verdict,
  verdict,
} from '../../stats.js';
import type { Headline } from '../../types.js';
import type { FeatureSeries, FeaturesResult } from './config.js';

/** A t interval over the draws, or null with fewer than two. */
function interval(xs: readonly number[]): Interval | null {
  return xs.length >= 2 && xs.every(Number.isFinite) ? tInterval(xs) : null;
}

function accText(xs: readonly number[]): string {
  const iv = interval(xs);
  return iv === null
    ? `${(mean(xs) * 100).toFixed(1)}%`
    : formatInterval(iv, { scale: 100, unit: '%' }).replace(/ \(.*\)$/, '');
}

function ptsText(iv: Interval | null): string {
  return iv === null ? 'n/a (one draw)' : `${formatInterval(iv, { scale: 100, signed: true })} pts`;
}

/** The indices of the sizes counted as "few labels" (at most 10 per class). */
function fewIndices(sizes: readonly number[]): number[] {
  return sizes.flatMap((n, i) => (n <= 10 ? [i] : []));
}

/** Per draw, the mean over the size indices `at` of `a - b`. */
function meanDiff(a: FeatureSeries, b: FeatureSeries, at: readonly number[]): number[] {
  const draws = a.acc[0].length;
  return Array.from({ length: draws }, (_, s) => mean(at.map((i) => a.acc[i][s] - b.acc[i][s])));
}

/** One comparison of two series: per-size paired intervals and the verdict of their mean over `at`. */
export interface Comparison {
  /** The series compared (a minus b). */
  a: string;
  b: string;
  /** Paired interval of the difference at each size (null with one draw). */
  perSize: (Interval | null)[];
  /** Paired interval of the mean difference over the sizes `at`. */
  overall: Interval | null;
  /** The sizes the verdict is over. */
  sizes: number[];
  /** The verdict on "a is above b" from `overall`. */
  verdict: Verdict;
}

function compare(r: FeaturesResult, a: FeatureSeries, b: FeatureSeries, at: readonly number[]): Comparison {
  const perSize = r.config.sizes.map((_, i) =>
    a.acc[i].length >= 2 ? pairedInterval(a.acc[i], b.acc[i]) : null,
  );
  const diffs = meanDiff(a, b, at);
  const overall = interval(diffs);
  return {
    a: a.label,
    b: b.label,
    perSize,
    overall,
    sizes: at.map((i) => r.config.sizes[i]),
    verdict: overall === null ? 'inconclusive' : verdict(overall, 0),
  };
}

/** The series of the curve by id (undefined when absent, e.g. MobileNetV2 skipped). */
function series(r: FeaturesResult, id: string): FeatureSeries | undefined {
  return r.curve.find((s) => s.id === id) ?? r.depth.find((s) => s.id === id);
}

/**
 * The comparisons behind the section's verdicts: MobileNetV2 and the digit CNN vs raw pixels and vs the CNN from
 * scratch at few labels (<= 10 per class), MobileNetV2 vs the digit CNN over every size, and the digit CNN's curve
 * layer vs its last hidden layer. Absent when a series is missing (MobileNetV2 skipped).
 *
 * @example
 * ```ts
 * featuresComparisons(result).mobilenetVsPixels?.verdict; // 'holds'
 * ```
 */
export function featuresComparisons(r: FeaturesResult): Record<string, Comparison | undefined> {
  const few = fewIndices(r.config.sizes);
  const all = r.config.sizes.map((_, i) => i);
  const px = series(r, 'pixels');
  const digit = series(r, `digit:${r.config.curveLayer}`);
  const mob = series(r, 'mobilenet');
  const scratch = series(r, 'scratch');
  const last = r.depth[r.depth.length - 1];
  const pair = (a: FeatureSeries | undefined, b: FeatureSeries | undefined, at: number[]) =>
    a !== undefined && b !== undefined && a !== b ? compare(r, a, b, at) : undefined;
  return {
    mobilenetVsPixels: pair(mob, px, few),
    digitVsPixels: pair(digit, px, few),
    mobilenetVsDigit: pair(mob, digit, all),
    mobilenetVsScratch: pair(mob, scratch, few),
    digitVsScratch: pair(digit, scratch, few),
    curveLayerVsLast: pair(digit, last, all),
  };
}

/** A line chart over log-spaced sizes: x = log10(n), tick labels rewritten to n. */
function curveChart(r: FeaturesResult): string {
  const sizes = r.config.sizes;
  const xs = sizes.map((n) => Math.log10(n));
  const lows: number[] = [];
  const s = r.curve.map((c) => {
    const ivs = c.acc.map(interval);
    ivs.forEach((iv, i) => {
      lows.push(iv?.lo ?? mean(c.acc[i]));
    });
    return {
      name: c.label,
      x: xs,
      y: c.acc.map((a) => mean(a)),
      err: ivs.map((iv) => (iv === null ? 0 : iv.hi - iv.estimate)),
      dashed: c.id === 'pixels' || c.id === 'scratch',
    };
  });
  const svg = lineChart({
    title: 'Fashion-MNIST: test accuracy vs labelled examples per class',
    xLabel: 'labelled examples per class (log scale)',
    yLabel: 'test accuracy',
    xTicks: xs,
    xMin: xs[0] - 0.1,
    xMax: xs[xs.length - 1] + 0.1,
    yMin: Math.max(0, Math.floor(Math.min(...lows) * 10) / 10),
    width: 600,
    height: 340,
    series: s,
  });
  // One pass over the x tick labels (a label rewritten earlier must not match a later size's label).
  const labels = new Map(sizes.map((n, i) => [escapeXml(formatNumber(xs[i])), String(n)]));
  return svg.replace(/text-anchor="middle">([^<]*)<\/text>/g, (whole, label: string) =>
    labels.has(label) ? `text-anchor="middle">${labels.get(label)}</text>` : whole,
  );
}

function seriesTable(r: FeaturesResult, rows: readonly FeatureSeries[], caption: string): string {
  return table(
    ['features (dim)', 'C (dev)', ...r.config.sizes.map((n) => `${n}/class`)],
    rows.map((s) => [
      s.dim === null ? s.label : `${s.label} (${s.dim})`,
      s.C === null ? '—' : String(s.C),
      ...s.acc.map(accText),
    ]),
    caption,
  );
}

function comparisonText(c: Comparison | undefined, sizes: readonly number[]): string {
  if (c === undefined) return 'not measured (a feature set was skipped)';
  const per = c.perSize
    .map((iv, i) => ({ iv, n: sizes[i] }))
    .filter((p) => c.sizes.includes(p.n))
    .map(
      (p) =>
        `${p.n}/class ${p.iv === null ? 'n/a' : `${p.iv.estimate >= 0 ? '+' : ''}${(p.iv.estimate * 100).toFixed(1)}`}`,
    )
    .join(', ');
  return `mean over ${c.sizes.join(', ')}/class: ${ptsText(c.overall)} (${per})`;
}

function claims(r: FeaturesResult): string {
  const c = featuresComparisons(r);
  const sizes = r.config.sizes;
  const row = (claim: string, paper: string, cmp: Comparison | undefined, what?: string): Claim => ({
    claim,
    paper,
    ours: comparisonText(cmp, sizes),
    verdict: cmp?.verdict ?? 'inconclusive',
    note: what,
  });
  return claimsTable([
    row(
      'Off-the-shelf features + linear SVM beat raw pixels at few labels (MobileNetV2)',
      'DeCAF: DeCAF6 + SVM 86.9% on Caltech-101 with 30/class, strong from 1/class (Fig. 5); Razavian: OverFeat + SVM beats specialised pipelines',
      c.mobilenetVsPixels,
      'MobileNetV2 of nsfwjs (see above) on 28x28 grey clothes stretched to RGB; not ImageNet-scale data here.',
    ),
    row(
      'Features of a net trained on another task (digits) beat raw pixels at few labels',
      'DeCAF / Razavian: features of a net trained for other classes transfer',
      c.digitVsPixels,
      `The report's reference CNN trained on MNIST digits, read at ${r.config.curveLayer}.`,
    ),
    row(
      'Generic features from a different domain transfer: MobileNetV2 beats the digit CNN on clothes',
      'Razavian: ImageNet features transfer to far-off tasks (scenes, fine-grained, retrieval)',
      c.mobilenetVsDigit,
      'Both are "other domain" for clothes: MobileNetV2 saw colour photos, the digit CNN grey 28x28 digits like the clothes images.',
    ),
    row(
      'Off-the-shelf features beat a CNN trained from scratch on the same few labels',
      'DeCAF: with few examples per class, features of a big net beat training a net on the target data',
      c.mobilenetVsScratch,
      `Same architecture as the digit CNN, from a random start, ${r.config.scratch.steps} Adam steps fixed in advance.`,
    ),
    row(
      `The digit CNN's ${r.config.curveLayer} transfers better than its last hidden layer (${r.config.digitLayers[r.config.digitLayers.length - 1]})`,
      'Razavian / Yosinski: the last layers specialise on the source task',
      c.curveLayerVsLast,
    ),
  ]);
}

function normsTable(r: FeaturesResult): string {
  if (r.norms.length === 0) return '';
  const byNorm = (n: string) => r.norms.find((x) => x.norm === n);
  const l2 = byNorm('l2');
  const none = byNorm('none');
  const power = byNorm('power');
  const label = (n: string) => (n === 'none' ? 'none' : n === 'l2' ? 'L2' : 'signed power (a = 0.5) + L2');
  const rows = r.norms.map((x) => [label(x.norm), String(x.C), accText(x.acc)]);
  const diff = (a: typeof l2, b: typeof l2) =>
    a && b && a.acc.length >= 2 ? pairedInterval(a.acc, b.acc) : null;
  const l2VsNone = diff(l2, none);
  const powerVsL2 = diff(power, l2);
  return [
    table(
      ['normalisation', 'C (dev)', `test accuracy, ${r.config.normSize}/class`],
      rows,
      `MobileNetV2 features with Razavian et al.'s normalisation switches (same draws, C chosen on the development split per row)`,
    ),
    claimsTable([
      {
        claim: 'L2 normalisation of the features helps a linear SVM',
        paper: 'Razavian: L2-normalised OverFeat features throughout',
        ours: `L2 - none: ${ptsText(l2VsNone)}`,
        verdict: l2VsNone === null ? 'inconclusive' : verdict(l2VsNone, 0),
      },
      {
        claim: 'Signed power normalisation helps on top of L2',
        paper: 'Razavian (retrieval): power normalisation helps',
        ours: `power - L2: ${ptsText(powerVsL2)}`,
        verdict: powerVsL2 === null ? 'inconclusive' : verdict(powerVsL2, 0),
        note: "Augmented views (Razavian's other switch) are not measured here: they multiply the MobileNetV2 cost.",
      },
    ]),
  ].join('\n');
}

/**
 * The section's headlines for the "At a glance" table: MobileNetV2 vs raw pixels at few labels, and MobileNetV2 vs
 * the digit CNN (or the digit CNN vs pixels when MobileNetV2 was skipped).
 *
 * @example
 * ```ts
 * featuresHeadlines(result)[0].ours; // '+12.3 [+8.1, +16.5] (95% CI, n = 3) pts ...'
 * ```
 */
export function featuresHeadlines(r: FeaturesResult): Headline[] {
  const c = featuresComparisons(r);
  const sizes = r.config.sizes;
  const out: Headline[] = [];
  const main = c.mobilenetVsPixels ?? c.digitVsPixels;
  if (main !== undefined) {
    out.push({
      claim: `Off-the-shelf ${main.a} features + linear SVM vs raw pixels, Fashion-MNIST, ${main.sizes.join('/')} labels per class`,
      paper: 'DeCAF6 + SVM: 86.9% on Caltech-101 (30/class), above hand-engineered features',
      ours: `${comparisonText(main, sizes)}: ${main.verdict}`,
    });
  }
  if (c.mobilenetVsDigit !== undefined) {
    out.push({
      claim: 'Generic features from a different domain: MobileNetV2 vs the digit CNN on clothes',
      paper: 'Razavian: ImageNet features transfer to far-off tasks',
      ours: `${comparisonText(c.mobilenetVsDigit, sizes)}: ${c.mobilenetVsDigit.verdict}`,
    });
  }
  return out;
}

/**
 * The section's HTML fragment.
 *
 * @example
 * ```ts
 * const html = renderFeatures(result);
 * ```
 */
export function renderFeatures(r: FeaturesResult): string {
  const cfg = r.config;
  const m = r.mobilenet;
  const mobText =
    'skipped' in m
      ? `MobileNetV2 was skipped: ${m.skipped}.`
      : `MobileNetV2 is nsfwjs's bundled model (8-bit weights): an ImageNet-initialised Keras MobileNetV2 that nsfwjs's authors trained further on about 60 GB of web images for 5 classes (drawing, hentai, neutral, porn, sexy); the package does not say whether the backbone was frozen, so its features are ImageNet features possibly adapted to those photos, not a pure ImageNet model. It is read at ${m.featureLayer} (the global average of the last 1280 channels), with the 28x28 images repeated to RGB and stretched to ${m.inputSize}x${m.inputSize} (${m.inputSize === 224 ? "the model's own size" : 'its own size is 224x224, which costs about ten times more CPU per image here; the final average pool is resized to match'}); ${m.msPerImage.toFixed(1)} ms of wall-clock time per image on ${r.backend}.`;
  const cpu = r.cpu;
  return [
    paragraph(
      "DeCAF (Donahue et al. 2014) and Razavian et al. (2014) read the activations of a hidden layer of a CNN trained on a large data set and train a linear classifier on them for a task the network never saw. Here the task is Fashion-MNIST's 10 clothes classes; transferkit's FeatureExtractor reads the features, its LinearSvm (one-vs-rest, squared hinge, L-BFGS) classifies them.",
    ),
    paragraph(
      `Data: ${r.counts.pool} candidate training images (${cfg.poolPerClass} per class) and ${r.counts.dev} development images (${cfg.devPerClass} per class) from the training part, ${r.counts.test} test images (${cfg.testPerClass} per class) from the test part. Their features are extracted once per run, in batches. For each of ${cfg.seeds} draws (seeds) the labelled examples are ${cfg.sizes.join(', ')} per class of the candidates (nested: a draw's 5 contain its 1); every method sees the same examples and is scored on the same test images, so the intervals (95% Student t over the draws) measure which examples were drawn, with the test set fixed. ${cfg.sizes.includes(200) ? '' : '200 per class is full mode only. '}The SVM's C is chosen per feature set from {${cfg.cGrid.join(', ')}} on the development split (one draw of ${cfg.devSize} per class), never on the test images.`,
    ),
    paragraph(
      `Features: raw pixels (784, L2-normalised); the digit CNN, the report's reference CNN trained on MNIST digits (${(r.digitCnn.mnistAccuracy * 100).toFixed(2)}% on its MNIST test digits${r.digitCnn.fromCache ? ', loaded from the cache' : ''}), at ${cfg.digitLayers.join(', ')} (L2-normalised; ${cfg.curveLayer} on the curve, chosen in advance); ${mobText} Baseline: the same architecture as the digit CNN trained from scratch on the labelled examples only (Adam ${cfg.scratch.learningRate}, batch ${cfg.scratch.batchSize}, about ${cfg.scratch.steps} steps; no tuning).`,
    ),
    figure(
      curveChart(r),
      `Test accuracy on ${r.counts.test} Fashion-MNIST test images against labelled examples per class (log scale). Error bars: 95% t-intervals over ${cfg.seeds} draws of the labelled examples. Dashed: raw pixels and the CNN from scratch.`,
    ),
    seriesTable(r, r.curve, 'Test accuracy, mean [95% CI] over the draws'),
    claims(r),
    '<h3>Layers of the digit CNN</h3>',
    seriesTable(
      r,
      [...r.curve.filter((s) => s.id === 'pixels'), ...r.depth],
      'The digit CNN read at each layer (same draws; L2-normalised)',
    ),
    '<h3>Normalisation (Razavian et al.)</h3>',
    normsTable(r) || note('Not measured: MobileNetV2 was skipped.'),
    note(
      `What differs at this scale: 28x28 grey clothes instead of Caltech-101 / VOC / MIT-67 photos; the "big" nets are a MobileNetV2 of nsfwjs${'skipped' in m || m.inputSize === 224 ? '' : ` at ${m.inputSize}x${m.inputSize}`} and a small CNN trained on 8,000 digits instead of AlexNet/OverFeat on ImageNet; ${r.counts.test} test images and ${cfg.seeds} draws. CPU: ${cpu.total.toFixed(0)} s for the section (reference CNN ${cpu.referenceCnn.toFixed(0)} s when not cached by an earlier section, feature extraction ${cpu.extraction.toFixed(0)} s, SVMs ${cpu.classifiers.toFixed(0)} s, CNNs from scratch ${cpu.scratch.toFixed(0)} s); ${r.seconds.toFixed(0)} s wall (${r.mode} mode, ${r.backend}).`,
    ),
  ].join('\n');
}
