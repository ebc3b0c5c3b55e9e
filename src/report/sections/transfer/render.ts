/**
 * Renders the transfer section: figures like Yosinski et al.'s fig. 3 (every treatment on B against n, per split)
 * and fig. 4 (AnB relative to baseB, similar vs dissimilar), with 95% intervals over seeds, and the claims whose
 * verdicts are read from those intervals.
 *
 * @module
 */
import { lineChart, type TransferKind } from '../../../index.js';
import { TRANSFER_KINDS } from '../../../internal.js';
import { claimsTable, figure, note, paragraph, table } from '../../html.js';
import { formatInterval, type Interval, mean, type Verdict, verdict } from '../../stats.js';
import type { Headline } from '../../types.js';
import type { TransferSectionResult, TransferSplitOutcome } from './config.js';
import { hasKind, interval, perSeed, relative, transferIntervals, transferRegions, within } from './stats.js';

/** An interval in percentage points, or why there is none. */
function pts(iv: Interval | null): string {
  return iv === null ? 'n/a (one seed)' : `${formatInterval(iv, { scale: 100, signed: true })} pts`;
}

const COLORS: Record<TransferKind, string> = {
  BnB: '#1f77b4',
  'BnB+': '#6baed6',
  AnB: '#d62728',
  'AnB+': '#ff9896',
};

/** Mean and 95% half-width of a list of per-seed values (half-width 0 with one seed). */
function meanHalf(xs: readonly number[]): { m: number; h: number } {
  const iv = interval(xs);
  return iv === null ? { m: mean(xs), h: 0 } : { m: iv.estimate, h: iv.hi - iv.estimate };
}

/** Fig. 3-like: every treatment's accuracy on B against n, error bars = 95% CI half-width; baseB dashed. */
function fig3(o: TransferSplitOutcome, stageNames: readonly string[], zoom = false): string {
  const ns = o.results.ns;
  const offset: Record<TransferKind, number> = { BnB: -0.09, 'BnB+': -0.03, AnB: 0.03, 'AnB+': 0.09 };
  const kinds = TRANSFER_KINDS.filter((k) => hasKind(o.results, k) && !(zoom && k === 'AnB'));
  const series = kinds.map((k) => {
    const pts = ns.map((n) => meanHalf(perSeed(o.results, k, n)));
    return {
      name: k,
      x: ns.map((n) => n + offset[k]),
      y: pts.map((p) => p.m),
      err: pts.map((p) => p.h),
      color: COLORS[k],
    };
  });
  const base = meanHalf(perSeed(o.results, 'baseB', 0));
  const lows = [...series.flatMap((s) => s.y.map((v, i) => v - s.err[i])), base.m - base.h].filter(
    Number.isFinite,
  );
  const highs = [...series.flatMap((p) => p.y.map((v, i) => v + p.err[i])), base.m + base.h].filter(
    Number.isFinite,
  );
  // The zoom (no AnB) spans the data, with the top third left free for the legend.
  const lo = Math.min(...lows);
  const hi = Math.max(...highs);
  const span = Math.max(hi - lo, 0.005);
  return lineChart({
    title: zoom
      ? 'Similar tasks, zoomed: BnB (the dip), BnB+ and AnB+ against baseB'
      : `${o.name === 'similar' ? 'Similar tasks: A = digits 0-4' : 'Dissimilar tasks: A = clothes'}, B = digits 5-9`,
    xLabel: `n = stages copied (${ns.map((n) => `${n}: ${stageNames[n - 1]}`).join(', ')})`,
    yLabel: 'test accuracy on B',
    xTicks: ns,
    xMin: ns[0] - 0.3,
    xMax: ns[ns.length - 1] + 0.3,
    yMin: zoom ? lo - 0.05 * span : Math.max(0, Math.floor(lo * 20) / 20),
    yMax: zoom ? hi + 0.5 * span : 1,
    width: 560,
    height: 320,
    series: [
      ...series,
      {
        name: 'baseB',
        x: [ns[0] - 0.3, ns[ns.length - 1] + 0.3],
        y: [base.m, base.m],
        color: '#333333',
        dashed: true,
      },
    ],
  });
}

/** Fig. 4-like: AnB and AnB+ relative to baseB against n, similar vs dissimilar, with 95% CI bars. */
function fig4(r: TransferSectionResult): string {
  const styles: Record<string, { color: string; dx: number }> = {
    'AnB similar': { color: '#d62728', dx: -0.06 },
    'AnB dissimilar': { color: '#9467bd', dx: 0.06 },
    'AnB+ similar': { color: '#ff9896', dx: -0.02 },
    'AnB+ dissimilar': { color: '#c5b0d5', dx: 0.02 },
  };
  const ns = r.splits[0].results.ns;
  const series = r.splits.flatMap((o) =>
    (['AnB', 'AnB+'] as const)
      .filter((k) => hasKind(o.results, k))
      .map((k) => {
        const name = `${k} ${o.name}`;
        const p = ns.map((n) => meanHalf(relative(o.results, k, n)));
        return {
          name,
          x: ns.map((n) => n + styles[name].dx),
          y: p.map((v) => v.m * 100),
          err: p.map((v) => v.h * 100),
          color: styles[name].color,
        };
      }),
  );
  return lineChart({
    title: 'Transfer relative to baseB: similar vs dissimilar A',
    xLabel: 'n = stages copied',
    yLabel: 'accuracy on B − baseB (points)',
    xTicks: ns,
    xMin: ns[0] - 0.3,
    xMax: ns[ns.length - 1] + 0.3,
    width: 560,
    height: 320,
    series: [
      ...series,
      { name: 'baseB', x: [ns[0] - 0.3, ns[ns.length - 1] + 0.3], y: [0, 0], color: '#333333', dashed: true },
    ],
  });
}

function splitTable(o: TransferSplitOutcome, stageNames: readonly string[]): string {
  const cell = (xs: number[]) => {
    const { m, h } = meanHalf(xs);
    return `${(m * 100).toFixed(1)} ± ${(h * 100).toFixed(1)}`;
  };
  const kinds = TRANSFER_KINDS.filter((k) => hasKind(o.results, k));
  return table(
    ['n (stage)', ...kinds.map((k) => `${k} − baseB (pts)`)],
    o.results.ns.map((n) => [
      `${n} (${stageNames[n - 1]})`,
      ...kinds.map((k) => cell(relative(o.results, k, n))),
    ]),
    `${o.name === 'similar' ? 'Similar' : 'Dissimilar'} split (A = ${o.taskA}): accuracy on B minus baseB (${(100 * mean(perSeed(o.results, 'baseB', 0))).toFixed(1)}%), mean ± 95% CI half-width over ${o.results.seeds.length} seeds; baseA on A: ${(100 * mean(perSeed(o.results, 'baseA', 0))).toFixed(1)}%.`,
  );
}

/** The paper's figures, shared by the claims table and the headlines. */
const PAPER = {
  dip: 'BnB drops at n = 3-6 (worst at 4-5, about −3 to −5 pts), recovers at 6-7',
  fall: 'AnB ≈ baseB at n = 1-2, slightly worse at 3, clearly worse at 4-7',
  dissimilar: 'the man-made → natural split drops more with n than random splits (fig. 4)',
  anbPlus: '+1.6 pts on average over n = 1..7',
  bnbPlus: 'BnB+ ≈ baseB at every n',
  coAdaptation: 'BnB+ ≈ baseB where BnB dips: +3 to +5 pts at n = 4-5',
  dipEnds: 'BnB at n = 1-2 and 7 ≈ baseB, 3-5 pts above n = 4-5',
} as const;

/** The smallest BnB dip in the paper's fig. 3 (points as a fraction): the note says whether the interval excludes it. */
const PAPER_DIP_MIN = 0.02;

/**
 * Renders the section's results as HTML.
 *
 * @example
 * ```ts
 * const html = renderTransfer(result);
 * ```
 */
export function renderTransfer(r: TransferSectionResult): string {
  const c = r.config;
  const a = c.architecture;
  const iv = transferIntervals(r);
  const sim = r.splits[0];
  const { middle, upper } = transferRegions(sim.results.ns);
  const arch = `${(a.filters ?? []).map((f, i) => `conv ${a.kernelSizes?.[i]}x${a.kernelSizes?.[i]}x${f} - pool`).join(' - ')} - ${(a.hidden ?? []).map((h) => `fc ${h}`).join(' - ')} - 5`;
  const ns = sim.results.ns;
  const dipVerdict: Verdict = iv.bnbDip === null ? 'inconclusive' : verdict(iv.bnbDip, 0, 'below');
  const dipNote =
    iv.bnbDip === null
      ? 'fewer than two seeds'
      : iv.bnbDip.lo > -PAPER_DIP_MIN
        ? `the interval rules out a dip as large as the paper's smallest (${(100 * PAPER_DIP_MIN).toFixed(0)} pts)`
        : `a dip as large as the paper's (${(100 * PAPER_DIP_MIN).toFixed(0)}+ pts) is not ruled out`;
  const parts: string[] = [
    paragraph(
      `Yosinski et al. train baseA and baseB on two tasks, then build networks whose first n stages come from baseA (AnB) or baseB (BnB, the "selfer" control), frozen, or fine-tuned (AnB+, BnB+), with the upper stages re-initialised and trained on B. Here B is always digits 5-9 (the mnist package); A is digits 0-4 (similar tasks) or five Fashion-MNIST clothes (dissimilar tasks). ${r.trainPerTask} training and ${r.testPerTask} test images per task; a CNN with ${r.stageNames.length} weight-bearing stages (${arch}, no batch normalisation, no dropout), so n = ${ns[0]}..${ns[ns.length - 1]}; ${c.epochs} epoch(s) of Adam (lr ${c.learningRate}, batch ${c.batchSize}) for every network; ${c.seeds} seeds shared by both splits. baseB, BnB and BnB+ never see A, so the dissimilar split reuses the similar split's (the same networks: same seeds, data and training); ${r.networks} networks in all, built with LayerTransfer and TransferExperiment on the ${r.backend} backend.`,
    ),
    paragraph(
      `The statistics, fixed before the runs (s: a seed; the middle n M = {${middle.join(', ')}} and the upper n U = {${upper.join(', ')}} come from a rule on n, \`transferRegions\`): the BnB dip d_s = mean over n in M of BnB_s(n), minus baseB_s (the finding, fragile co-adaptation, holds when the 95% Student-t interval of d over seeds lies below 0, does not hold when it lies above 0, else inconclusive); the same dip against BnB's own ends, e_s = mean of BnB_s at the first and last n minus the mean of BnB_s over M (above 0: a dip; this one does not compare with baseB, which BnB passes when its frozen layers bring their base's epochs along); dissimilarity g_s = mean over n in U of AnB_s(n) on the similar split minus AnB_s(n) on the dissimilar split (paired per seed: same B, same seed; holds above 0); co-adaptation c_s = mean over n in M of BnB+_s(n) − BnB_s(n): what fine-tuning the copied layers gains over freezing them, which is how the paper explains the dip (above 0 where BnB falls below baseB).`,
    ),
    claimsTable([
      {
        claim: `BnB dips in the middle (fragile co-adaptation): d = BnB − baseB, mean over n = ${middle.join(', ')}, below 0`,
        paper: PAPER.dip,
        ours: pts(iv.bnbDip),
        verdict: dipVerdict,
        note: `similar split; ${dipNote}`,
      },
      {
        claim: `BnB dips against its own ends: e = mean of BnB at n = ${ns[0]}, ${ns[ns.length - 1]} minus mean over n = ${middle.join(', ')}, above 0`,
        paper: PAPER.dipEnds,
        ours: pts(iv.bnbDipEnds),
        verdict: iv.bnbDipEnds === null ? 'inconclusive' : verdict(iv.bnbDipEnds, 0),
        note: 'similar split; the same dip without baseB, which BnB’s extra epochs can pass',
      },
      {
        claim: `Transferability falls with dissimilarity: g = AnB(similar) − AnB(dissimilar), mean over n = ${upper.join(', ')}, above 0`,
        paper: PAPER.dissimilar,
        ours: pts(iv.dissimilarity),
        verdict: iv.dissimilarity === null ? 'inconclusive' : verdict(iv.dissimilarity, 0),
        note: 'paired per seed across the two splits (same B, same seeds)',
      },
      {
        claim: `Co-adaptation: c = BnB+ − BnB, mean over n = ${middle.join(', ')}, above 0`,
        paper: PAPER.coAdaptation,
        ours: pts(iv.coAdaptation),
        verdict: iv.coAdaptation === null ? 'inconclusive' : verdict(iv.coAdaptation, 0),
        note: 'why the dip does or does not appear: how much the copied layers gain from training with the new ones',
      },
      {
        claim: `AnB falls with depth: AnB at n = ${ns[0]} minus AnB at n = ${ns[ns.length - 1]}, above 0`,
        paper: PAPER.fall,
        ours: pts(iv.anbFall),
        verdict: iv.anbFall === null ? 'inconclusive' : verdict(iv.anbFall, 0),
        note: 'similar split (digits share strokes; the fc stages encode A’s classes)',
      },
      {
        claim: 'AnB+ beats baseB (transfer + fine-tuning), mean over n, above 0',
        paper: PAPER.anbPlus,
        ours:
          iv.anbPlusDissimilar === null
            ? `similar ${pts(iv.anbPlus)}`
            : `similar ${pts(iv.anbPlus)}; dissimilar ${pts(iv.anbPlusDissimilar)}`,
        verdict: iv.anbPlus === null ? 'inconclusive' : verdict(iv.anbPlus, 0),
        note: 'verdict on the similar split; one schedule for every net',
      },
      {
        claim: 'BnB+ recovers baseB: BnB+ − baseB, mean over n, within ±1 pt',
        paper: PAPER.bnbPlus,
        ours: pts(iv.bnbPlus),
        verdict: within(iv.bnbPlus, 0.01),
        note: 'an equivalence claim: holds when the whole interval lies within ±1 point',
      },
    ]),
    figure(
      fig4(r),
      `Like the paper's fig. 4: AnB${r.splits.every((o) => hasKind(o.results, 'AnB+')) ? ' and AnB+' : ''} minus baseB on B against n, for similar and dissimilar A; error bars: 95% CI half-widths over ${c.seeds} seeds.`,
    ),
  ];
  parts.push(
    figure(
      fig3(sim, r.stageNames, true),
      `The top of the similar split's fig. 3 below, zoomed (AnB left out): where the paper's BnB dips below baseB (fragile co-adaptation) and BnB+ does not; error bars: 95% CI half-widths of the accuracies over ${sim.results.seeds.length} seeds (wider than the paired differences the verdicts use: baseB itself varies from seed to seed).`,
    ),
  );
  for (const o of r.splits) {
    parts.push(
      figure(
        fig3(o, r.stageNames),
        `Like the paper's fig. 3: mean test accuracy on B over ${o.results.seeds.length} seeds (error bars: 95% CI half-widths); dashed: baseB.${o.name === 'dissimilar' ? ' BnB and BnB+ are the similar split’s networks.' : ''}`,
      ),
      splitTable(o, r.stageNames),
    );
  }
  parts.push(
    note(
      `What differs at this scale: 5-class tasks instead of 500 ImageNet classes, a ${r.stageNames.length}-stage CNN instead of 8 layers, ${c.epochs} epoch(s) on ${r.trainPerTask} training images per task instead of training to convergence on ~645k. With training short of convergence, frozen layers from a trained net give the upper stages a head start (BnB gets its base's epochs on top of its own), which works against a BnB dip. Intervals: 95% Student-t over the seeds of per-seed differences (to the same seed's baseB, or between the splits). The recipe (${c.perClass} images per class, ${c.epochs} epochs, Adam ${c.learningRate}, batch ${c.batchSize}) was chosen on a dev split carved from the training part (scripts/transfer-dev.ts; docs/report.md lists what was tried). Median time per network: ${r.medianRunSeconds.toFixed(1)} s; section: ${r.seconds.toFixed(0)} s (${r.mode} mode).`,
    ),
  );
  return parts.join('\n');
}

function tag(v: Verdict): string {
  return `(${v})`;
}

/**
 * The section's "At a glance" lines.
 *
 * @example
 * ```ts
 * transferHeadlines(result).length; // 3
 * ```
 */
export function transferHeadlines(r: TransferSectionResult): Headline[] {
  const iv = transferIntervals(r);
  return [
    {
      claim: `BnB − baseB in the middle stages, digits 0-4 → 5-9 ${tag(iv.bnbDip === null ? 'inconclusive' : verdict(iv.bnbDip, 0, 'below'))}`,
      paper: 'about −3 to −5 pts at n = 4-5',
      ours: pts(iv.bnbDip),
    },
    {
      claim: `AnB similar − dissimilar (clothes → digits), upper stages ${tag(iv.dissimilarity === null ? 'inconclusive' : verdict(iv.dissimilarity, 0))}`,
      paper: 'transfer falls with dissimilarity',
      ours: pts(iv.dissimilarity),
    },
    {
      claim: `AnB+ − baseB, mean over n, digits 0-4 → 5-9 ${tag(iv.anbPlus === null ? 'inconclusive' : verdict(iv.anbPlus, 0))}`,
      paper: PAPER.anbPlus,
      ours: pts(iv.anbPlus),
    },
  ];
}
