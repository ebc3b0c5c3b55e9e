/**
 * Renders the foundation section: the claim with its interval and verdict, the learning curve, the confusion
 * matrix, accuracy per digit, sample predictions and the layers.
 *
 * @module
 */
import { lineChart } from '../../../index.js';
import { barChart, heatMap, labelledGridSvg } from '../../../internal.js';
import { claimsTable, figure, note, paragraph, pct, table } from '../../html.js';
import { bootstrapInterval, formatInterval, type Interval, type Verdict, verdict } from '../../stats.js';
import type { Headline, ReportContext } from '../../types.js';
import { type FoundationConfig, type FoundationResult, foundationConfig } from './config.js';

/** The paper's figure (LeNet-5, LeCun et al. 1998). */
const PAPER = 'LeNet-5 (LeCun et al. 1998): 99.05% (60,000 training digits, 20 epochs)';

/** The interval of a result object, computed once (render and headlines both read it). */
const memo = new WeakMap<FoundationResult, { interval: Interval; verdict: Verdict; threshold: number }>();

function settingsOf(r: FoundationResult, mode: ReportContext['mode'] = 'quick'): FoundationConfig {
  return r.settings ?? foundationConfig(mode);
}

/**
 * The claim's interval: a seeded percentile bootstrap of the test accuracy over the test digits (each digit
 * correct or not, read from the confusion matrix's diagonal), and its verdict against the threshold.
 *
 * @example
 * ```ts
 * const { interval, verdict } = foundationInterval(result);
 * ```
 */
export function foundationInterval(
  r: FoundationResult,
  mode: ReportContext['mode'] = 'quick',
): { interval: Interval; verdict: Verdict; threshold: number } {
  const known = memo.get(r);
  if (known !== undefined) return known;
  const s = settingsOf(r, mode);
  const n = r.confusion.reduce((a, row) => a + row.reduce((b, v) => b + v, 0), 0);
  const correct = r.confusion.reduce((a, row, i) => a + row[i], 0);
  const xs = Array.from({ length: n }, (_, i) => (i < correct ? 1 : 0));
  const interval = bootstrapInterval(xs, s.bootstrap);
  const out = { interval, verdict: verdict(interval, s.threshold), threshold: s.threshold };
  memo.set(r, out);
  return out;
}

function accuracyText(iv: Interval): string {
  return formatInterval(iv, { scale: 100, digits: 2, unit: '%' });
}

/**
 * The section's "At a glance" line.
 *
 * @example
 * ```ts
 * foundationHeadlines(result)[0].ours;
 * ```
 */
export function foundationHeadlines(r: FoundationResult): Headline[] {
  const { interval, verdict: v, threshold } = foundationInterval(r);
  return [
    {
      claim: `Reference CNN, MNIST test accuracy above ${pct(threshold, 0)} (${v})`,
      paper: 'LeNet-5: 99.05% (60,000 digits)',
      ours: `${accuracyText(interval)} (${r.trainSize} digits, ${r.config.epochs} epochs, ${r.trainSeconds.toFixed(0)} s on ${r.backend})`,
    },
  ];
}

/**
 * Renders the section's results as HTML.
 *
 * @example
 * ```ts
 * const html = renderFoundation(result);
 * ```
 */
export function renderFoundation(
  r: FoundationResult,
  ctx: Pick<ReportContext, 'mode'> = { mode: 'quick' },
): string {
  const { interval, verdict: v, threshold } = foundationInterval(r, ctx.mode);
  const boot = settingsOf(r, ctx.mode).bootstrap;

  const c = r.config;
  const arch = `conv ${c.architecture.kernelSizes?.[0]}x${c.architecture.kernelSizes?.[0]}x${c.architecture.filters?.[0]} - pool - conv ${c.architecture.kernelSizes?.[1]}x${c.architecture.kernelSizes?.[1]}x${c.architecture.filters?.[1]} - pool - fc ${c.architecture.hidden?.[0]} - 10`;
  const curve = lineChart({
    title: 'Learning curve (training batches, averaged over 10)',
    xLabel: 'training examples seen',
    yLabel: 'accuracy / loss',
    yMin: 0,
    series: [
      { name: 'train accuracy', x: r.curve.map((p) => p.examples), y: r.curve.map((p) => p.acc) },
      {
        name: 'train loss',
        x: r.curve.map((p) => p.examples),
        y: r.curve.map((p) => p.loss),
        dashed: true,
      },
      {
        name: 'test accuracy (per epoch)',
        x: r.history.map((e) => e.epoch * r.trainSize),
        y: r.history.map((e) => e.valAcc ?? Number.NaN),
      },
    ],
    width: 560,
  });
  const names = Array.from({ length: 10 }, (_, i) => String(i));
  const confusion = heatMap({
    title: 'Confusion matrix (rows: true digit, columns: predicted)',
    values: r.confusion,
    rowLabels: names,
    colLabels: names,
    showValues: true,
    cellSize: 26,
  });
  const perClass = barChart({
    title: 'Test accuracy per digit',
    categories: names,
    series: [{ name: 'accuracy', values: r.perClassAccuracy }],
    yMin: Math.max(0, Math.min(...r.perClassAccuracy) - 0.05),
    yMax: 1,
    yLabel: 'accuracy',
    width: 420,
    height: 260,
  });
  const wrong = r.samples.wrong.filter(Boolean).length;
  return [
    paragraph(
      "Every later section builds on this: the MNIST digits of the mnist package (10,000 real digits, split 80/20 per class with the run seed) and a small Zeiler-Fergus-style CNN trained on them with transferkit's seeded training loop, on the fastest backend available here. The trained model is shared with the other sections and cached on disk.",
    ),
    claimsTable([
      {
        claim: `A small CNN learns MNIST digits: test accuracy above ${pct(threshold, 0)}`,
        paper: PAPER,
        ours: `${accuracyText(interval)} (${r.trainSize.toLocaleString('en')} training digits, ${c.epochs} epochs)`,
        verdict: v,
        note: `A smaller training set (8k of the package's 10k digits) and far fewer epochs, to fit the quick budget on 2 cores; the test digits are the package's, not the standard test set. Interval: percentile bootstrap over the ${interval.n.toLocaleString('en')} test digits (${boot.resamples} resamples, seed ${boot.seed}): the spread from the draw of test digits, not from the training seed (one model per run).`,
      },
    ]),
    table(
      ['', ''],
      [
        ['backend', r.backend],
        ['architecture', arch],
        ['parameters', r.params.toLocaleString('en')],
        ['training', `${r.trainSize} digits x ${c.epochs} epochs, batch ${c.batchSize}, Adam lr ${c.lr}`],
        ['training time', `${r.trainSeconds.toFixed(1)} s (${r.examplesPerSecond.toFixed(0)} images/s)`],
        [
          'test loss / accuracy',
          `${r.test.loss.toFixed(4)} / ${pct(r.test.accuracy)} on ${r.testSize} digits`,
        ],
        [
          'model',
          r.fromCache ? 'loaded from the run cache (trained by an earlier run)' : 'trained in this run',
        ],
      ],
      'The reference CNN',
    ),
    figure(
      curve,
      'Training accuracy and loss over the run; dots: accuracy on the held-out digits after each epoch.',
    ),
    figure(confusion, 'Counts of held-out digits by true and predicted class.'),
    figure(perClass, 'Accuracy per digit on the held-out part.'),
    figure(
      labelledGridSvg(r.samples.png, r.samples, r.samples.labels),
      `The first ${r.samples.labels.length} held-out digits, captioned "prediction (truth)"; ${wrong} wrong.`,
    ),
    table(
      ['layer', 'class', 'output shape', 'parameters'],
      r.layers.map((l) => [l.name, l.className, l.outputShape, l.params]),
      'Layers (named, so that other sections can tap them)',
    ),
    note(
      'Timing depends on the machine and on the training kernels: on wasm, transferkit registers fast Conv2DBackpropFilter/Input and transposed-matmul kernels (registerTrainingKernels), without which the wasm backend cannot train conv nets at all.',
    ),
  ].join('\n');
}
