/**
 * Renders the deconvnet section: the claims (receptive fields grow with depth; occlusion peaks inside the object,
 * with a bootstrap interval over test scenes against chance), the fig.-2 grids, the strategies, the occlusion
 * figures and the MobileNetV2 part.
 *
 * @module
 */
import { claimsTable, figure, note, paragraph, pct, table } from '../../html.js';
import { bootstrapInterval, formatInterval, type Interval, type Verdict, verdict } from '../../stats.js';
import type { Headline, ReportContext } from '../../types.js';
import { type DeconvnetSectionResult, deconvnetConfig } from './config.js';
import { renderMobilenetDeconv } from './mobilenet.js';

/** The paper's occlusion finding (Fig. 7), shared by the claims table and the headline. */
const PAPER_OCCLUSION = 'Fig. 7: the probability drops when the object is covered';

/** The occlusion claim's intervals (null for results cached without the per-scene values). */
export interface DeconvnetIntervals {
  /** Share of test scenes whose strongest drop lies inside the box (bootstrap over scenes). */
  inside: Interval | null;
  /** That share minus the scenes' chance of it, paired per scene (bootstrap over scenes): the verdict's interval. */
  overChance: Interval | null;
  /** The verdict on "above chance" (inconclusive without an interval). */
  verdict: Verdict;
}

const memo = new WeakMap<DeconvnetSectionResult, DeconvnetIntervals>();

/**
 * The occlusion claim's intervals: seeded percentile bootstraps over the test scenes (the same resamples for both,
 * seed and count from the result's config) of the inside-the-box indicator and of its difference from the scene's
 * chance; the verdict reads the difference's interval against 0.
 *
 * @example
 * ```ts
 * const { overChance, verdict } = deconvnetIntervals(result);
 * ```
 */
export function deconvnetIntervals(
  r: DeconvnetSectionResult,
  mode: ReportContext['mode'] = r.mode,
): DeconvnetIntervals {
  const known = memo.get(r);
  if (known !== undefined) return known;
  const p = r.scenes.perScene;
  let out: DeconvnetIntervals;
  if (p === undefined || p.inside.length === 0) {
    out = { inside: null, overChance: null, verdict: 'inconclusive' };
  } else {
    const boot = (r.config ?? deconvnetConfig(mode)).bootstrap;
    const inside = bootstrapInterval(p.inside, boot);
    const overChance = bootstrapInterval(
      p.inside.map((v, i) => v - p.chance[i]),
      boot,
    );
    out = { inside, overChance, verdict: verdict(overChance, 0) };
  }
  memo.set(r, out);
  return out;
}

function points(iv: Interval): string {
  return `${formatInterval(iv, { scale: 100, digits: 1, signed: true })} points`;
}

function occlusionText(r: DeconvnetSectionResult, iv: DeconvnetIntervals): string {
  const s = r.scenes;
  const inside =
    iv.inside === null
      ? pct(s.insideBox, 1)
      : formatInterval(iv.inside, { scale: 100, digits: 1, unit: '%' });
  const over =
    iv.overChance === null ? 'no interval (cached without per-scene values)' : points(iv.overChance);
  return `strongest drop inside the digit's box on ${inside} of ${s.test} scenes, chance ${pct(s.chance, 1)}; above chance by ${over}`;
}

/**
 * Renders the section's results as HTML.
 *
 * @example
 * ```ts
 * const html = renderDeconvnet(result);
 * ```
 */
export function renderDeconvnet(r: DeconvnetSectionResult): string {
  const s = r.scenes;
  const m = r.mnist;
  const iv = deconvnetIntervals(r);
  const boot = (r.config ?? deconvnetConfig(r.mode)).bootstrap;
  const copied = s.copiedLayers?.length ? s.copiedLayers.join(', ') : 'conv1, conv2';
  return [
    paragraph(
      "Zeiler & Fergus map a feature map's activity back to pixels with a deconvnet: unpooling with the recorded " +
        'max-pooling switches, ReLU on the signal coming back, and the transposed filters of each convolution. ' +
        'transferkit runs the same backward machinery with three rules at the ReLUs (deconvnet, guided backprop, ' +
        'gradient) and is tested against tf.customGrad oracles on cpu and wasm.',
    ),
    claimsTable([
      {
        claim:
          'Top-9 projections show what each feature map responds to; units of higher layers see larger parts of the image',
        paper: 'Fig. 2 (ImageNet, 5 layers): edges and colours, then textures, object parts, whole objects',
        ours: m.layers.map((l) => `${l.layer}: ${l.receptiveField.join('x')} px`).join(', '),
        holds: m.layers.every(
          (l, i) =>
            i === 0 ||
            l.receptiveField[0] * l.receptiveField[1] >
              m.layers[i - 1].receptiveField[0] * m.layers[i - 1].receptiveField[1],
        ),
        note: 'MNIST digits and a 2-conv CNN; judge the grids below (conv1: strokes; conv2: stroke ends, junctions, curves; fc1: whole digits). Receptive fields are computed from the layers, so no interval applies.',
      },
      {
        claim:
          "Occluding the object makes the correct class's probability drop (the model localises the object): the strongest drop lies inside the object's box more often than chance",
        paper: PAPER_OCCLUSION,
        ours: `${occlusionText(r, iv)} (${pct(s.insideBoxCorrect, 1)} of the ${s.correct} classified correctly)`,
        verdict: iv.verdict,
        note: `${s.canvas}x${s.canvas} single-digit scenes with strokes and digit fragments as clutter; a ${s.occluder}px square, stride ${s.stride}. Chance: the share of occluder positions whose centre lies in the box, per scene. Interval: percentile bootstrap over the ${s.test} test scenes (${boot.resamples} resamples, seed ${boot.seed}), paired per scene; it covers the draw of test scenes, not the training seed (one classifier per run).`,
      },
    ]),
    table(
      ['layer', 'channels shown', 'receptive field', 'mean top-1 activation'],
      m.layers.map((l) => [
        l.layer,
        `${l.shown} of ${l.channels}`,
        `${l.receptiveField[0]}x${l.receptiveField[1]}`,
        l.meanTop,
      ]),
      `Top-9 over ${m.scanned} MNIST test digits (${m.topKSeconds.toFixed(1)} s for scanning and projecting all three layers)`,
    ),
    ...m.layers.map((l) =>
      figure(
        { src: l.png, alt: `top-9 of ${l.layer}` },
        `${l.layer}: for each feature map, the 9 strongest activations projected to pixels (left, grey = 0) beside the ${l.receptiveField.join('x')} input patches that caused them (right).`,
      ),
    ),
    figure(
      { src: m.strategiesPng, alt: 'strategies' },
      'Correct-class logit projected to pixels: input, deconvnet (Z&F), guided backprop (Springenberg et al.), gradient (saliency).',
    ),
    figure(
      { src: m.occlusionPng, alt: 'occlusion on digits' },
      `Occlusion on digits (8px square, stride 2): image, probability of the correct class (viridis, 0..1), total activity of the strongest conv2 feature map. Mean drop ${pct(m.meanDrop, 1)}.`,
    ),
    table(
      ['scene classifier', 'value'],
      [
        ['training scenes', s.train],
        ['test scenes', s.test],
        [
          `epochs of the new head (conv3 + global max pooling + dense on the layers ${copied}, copied from the MNIST CNN by LayerTransfer and frozen)`,
          s.epochs,
        ],
        ['model', s.fromCache ? "loaded from the report's model cache" : 'trained in this run'],
        ['test accuracy', pct(s.accuracy, 1)],
        [
          'strongest drop inside the box',
          iv.inside === null
            ? pct(s.insideBox, 1)
            : formatInterval(iv.inside, { scale: 100, digits: 1, unit: '%' }),
        ],
        ['chance level', pct(s.chance, 1)],
        ['inside minus chance, paired per scene', iv.overChance === null ? '—' : points(iv.overChance)],
        ['mean probability drop at the strongest position', pct(s.meanDrop, 1)],
      ],
    ),
    figure(
      { src: s.occlusionPng, alt: 'occlusion on scenes' },
      "Occlusion on scenes: the scene with the digit's box (red), the correct class's probability, the strongest conv3 feature map's activity.",
    ),
    figure(
      { src: s.topPng, alt: 'top-9 on scenes' },
      'conv3 of the scene classifier: top-9 projections and their receptive-field patches among clutter.',
    ),
    renderMobilenetDeconv(r.mobilenet),
    note(
      `What differs: 28x28 digits and 40x40 scenes instead of ImageNet, two conv layers instead of five, switches ` +
        `chosen as the first maximum of each window (the paper does not say how ties break). ${r.backend} backend, ` +
        `${r.seconds.toFixed(1)} s.`,
    ),
  ].join('\n');
}

/**
 * The section's "At a glance" line.
 *
 * @example
 * ```ts
 * deconvnetHeadlines(result)[0].ours;
 * ```
 */
export function deconvnetHeadlines(r: DeconvnetSectionResult): Headline[] {
  const iv = deconvnetIntervals(r);
  return [
    {
      claim: `Occlusion: the strongest drop of the correct class's probability lies inside the object's box, above chance (${iv.verdict})`,
      paper: PAPER_OCCLUSION,
      ours: `${
        iv.inside === null
          ? pct(r.scenes.insideBox, 1)
          : formatInterval(iv.inside, { scale: 100, digits: 1, unit: '%' })
      } of ${r.scenes.test} clutter scenes (chance ${pct(r.scenes.chance, 1)}; ${
        iv.overChance === null ? 'no interval' : points(iv.overChance)
      })`,
    },
  ];
}
