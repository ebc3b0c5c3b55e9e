/**
 * Report section `transfer`: Yosinski et al. (2014)'s transferability experiment on MNIST.
 *
 * Task A = digits 0-4, task B = digits 5-9 (and, in full mode, a random split of the ten digits). baseA and baseB are
 * the reference Zeiler-Fergus-style CNN (scaled down) trained on each task; for every n over its weight-bearing
 * stages, AnB/BnB copy the first n stages of baseA/baseB, freeze them (BatchNorm-free net here), re-initialise the
 * rest (seeded) and train on B; AnB+/BnB+ fine-tune the copied stages too. Every network is trained with the same
 * schedule; accuracies on B's held-out digits are averaged over seeds. Results are saved after every run, so an
 * interrupted report resumes where it stopped.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Tensor } from '@tensorflow/tfjs-core';
import {
  lineChart,
  modelStructure,
  randomClassSplit,
  summarizeTransfer,
  TransferExperiment,
  type TransferKind,
  type TransferResults,
  type TransferSummary,
  transferTable,
  type ZeilerFergusCnnOptions,
  zeilerFergusCnn,
} from '../../index.js';
import { TRANSFER_KINDS } from '../../internal.js';
import { loadMnist } from '../../node.js';
import { claimsTable, figure, note, paragraph, table } from '../html.js';
import { referenceCnnConfig } from '../shared.js';
import type { ReportContext, ReportMode, ReportSection } from '../types.js';

/** The experiment's settings in one mode. */
export interface TransferSectionConfig {
  /** Digits drawn per class before the split (train + test). */
  perClass: number;
  /** Fraction of each class held out for testing. */
  testFraction: number;
  /** Architecture of the networks (numClasses and seed are set per network). */
  architecture: ZeilerFergusCnnOptions;
  /** Epochs of every network. */
  epochs: number;
  /** Mini-batch size. */
  batchSize: number;
  /** Adam learning rate of every network (and of the copied layers in AnB+/BnB+). */
  learningRate: number;
  /** Number of seeds (repeats). */
  seeds: number;
  /** Whether a random class split is run as well. */
  randomSplit: boolean;
}

/**
 * The settings: `quick` trains 84 small CNNs (two class splits x 3 seeds x 14 networks: 300 training digits per
 * class, one epoch each), about 50 s of compute on one core with wasm and the training kernels; `full` uses 450
 * digits per class, 2 epochs, 5 seeds and the reference CNN itself (conv16-conv32-fc128).
 *
 * @example
 * ```ts
 * transferSectionConfig('quick').epochs; // 1
 * ```
 */
export function transferSectionConfig(mode: ReportMode): TransferSectionConfig {
  const full = mode === 'full';
  return {
    perClass: full ? 600 : 400,
    testFraction: 0.25,
    // Full mode: the reference CNN of the report (shared.ts); quick mode: the same shape at half the width.
    architecture: full
      ? { ...referenceCnnConfig('full').architecture, numClasses: undefined }
      : { inputShape: [28, 28, 1], filters: [8, 16], kernelSizes: [5, 3], hidden: [64] },
    epochs: full ? 2 : 1,
    batchSize: 32,
    learningRate: 0.01,
    seeds: full ? 5 : 3,
    randomSplit: true,
  };
}

/** One class split's experiment. */
export interface TransferSplitOutcome {
  /** `'digits 0-4 vs 5-9'` or `'random split'`. */
  name: string;
  /** The experiment's results (every run). */
  results: TransferResults;
  /** Means and standard deviations over seeds. */
  summary: TransferSummary;
  /** Runs taken from an earlier, interrupted report instead of trained now. */
  resumedRuns: number;
}

/** The JSON result of the section. */
export interface TransferSectionResult {
  mode: ReportMode;
  backend: string;
  seconds: number;
  config: TransferSectionConfig;
  /** Training / test digits per task. */
  trainPerTask: number;
  testPerTask: number;
  /** Name of the weight-bearing layer that ends each stage n = 1..stages. */
  stageNames: string[];
  splits: TransferSplitOutcome[];
  /** Median wall time of one network's training + evaluation, in seconds. */
  medianRunSeconds: number;
}

interface CacheFile {
  config: TransferSectionConfig;
  results: TransferResults;
}

async function runSplit(
  ctx: ReportContext,
  cfg: TransferSectionConfig,
  name: string,
  classesA: number[],
  classesB: number[],
  data: { train: { x: Tensor; labels: number[] }; test: { x: Tensor; labels: number[] } },
): Promise<TransferSplitOutcome> {
  const file = path.join(ctx.cacheDir, `transfer-runs-${name.replace(/[^a-z0-9]+/gi, '-')}.json`);
  let resume: TransferResults | undefined;
  if (existsSync(file)) {
    const cached = JSON.parse(await readFile(file, 'utf8')) as CacheFile;
    const same =
      JSON.stringify(cached.config) === JSON.stringify(cfg) &&
      JSON.stringify(cached.results.classesA) === JSON.stringify(classesA);
    if (same) resume = cached.results;
  }
  await mkdir(ctx.cacheDir, { recursive: true });
  const seeds = Array.from({ length: cfg.seeds }, (_, i) => ctx.seed * 100 + i + 1);
  const experiment = new TransferExperiment(
    { train: data.train, test: data.test, classesA, classesB },
    {
      modelFactory: (numClasses, seed) => zeilerFergusCnn({ ...cfg.architecture, numClasses, seed }),
      seeds,
      training: {
        epochs: cfg.epochs,
        batchSize: cfg.batchSize,
        learningRate: cfg.learningRate,
        optimizer: 'adam',
      },
      resume,
      onRun: async (run, results) => {
        ctx.log(
          `transfer (${name}): ${run.kind} n=${run.n} seed=${run.seed}: ${(100 * run.accuracy).toFixed(1)}%`,
        );
        const out: CacheFile = { config: cfg, results };
        await writeFile(file, JSON.stringify(out));
      },
      onProgress: (e) =>
        ctx.progress({
          ...e,
          phase: e.phase === 'transfer' ? `transfer: networks (${name})` : 'transfer: steps',
        }),
    },
  );
  const results = await experiment.run();
  return { name, results, summary: summarizeTransfer(results), resumedRuns: resume?.runs.length ?? 0 };
}

async function run(ctx: ReportContext): Promise<TransferSectionResult> {
  const t0 = performance.now();
  const cfg = transferSectionConfig(ctx.mode);
  const mnist = await loadMnist({
    seed: ctx.seed,
    testFraction: cfg.testFraction,
    limitPerClass: cfg.perClass,
  });
  try {
    const data = {
      train: { x: mnist.train.x, labels: mnist.train.labels },
      test: { x: mnist.test.x, labels: mnist.test.labels },
    };
    const probe = zeilerFergusCnn({ ...cfg.architecture, numClasses: 5, seed: 0 });
    const structure = modelStructure(probe);
    probe.dispose();
    const stageNames = Array.from(
      { length: structure.stages },
      (_, s) => structure.leaves.find((l) => l.stage === s && l.hasWeights)?.key ?? `stage ${s + 1}`,
    );
    const splits: TransferSplitOutcome[] = [];
    splits.push(await runSplit(ctx, cfg, 'digits 0-4 vs 5-9', [0, 1, 2, 3, 4], [5, 6, 7, 8, 9], data));
    if (cfg.randomSplit) {
      const { a, b } = randomClassSplit(10, ctx.seed + 17);
      splits.push(await runSplit(ctx, cfg, 'random split', a, b, data));
    }
    const times = splits.flatMap((s) => s.results.runs.map((r) => r.ms / 1000)).sort((p, q) => p - q);
    const perTask = (labels: number[]) => labels.filter((l) => l < 5).length;
    return {
      mode: ctx.mode,
      backend: ctx.backend,
      seconds: (performance.now() - t0) / 1000,
      config: cfg,
      trainPerTask: perTask(mnist.train.labels),
      testPerTask: perTask(mnist.test.labels),
      stageNames,
      splits,
      medianRunSeconds: times.length ? times[Math.floor(times.length / 2)] : Number.NaN,
    };
  } finally {
    mnist.dispose();
  }
}

const COLORS: Record<TransferKind, string> = {
  BnB: '#1f77b4',
  'BnB+': '#6baed6',
  AnB: '#d62728',
  'AnB+': '#ff9896',
};

function chart(outcome: TransferSplitOutcome, stageNames: string[]): string {
  const s = outcome.summary;
  const ns = outcome.results.ns;
  // Small horizontal offsets keep the four error bars at one n apart.
  const offset: Record<TransferKind, number> = { BnB: -0.06, 'BnB+': -0.02, AnB: 0.02, 'AnB+': 0.06 };
  const series = TRANSFER_KINDS.map((k) => ({
    name: k,
    x: s.series[k].map((p) => p.n + offset[k]),
    y: s.series[k].map((p) => p.mean),
    err: s.series[k].map((p) => p.std),
    color: COLORS[k],
  }));
  const all = [...series.flatMap((x) => x.y.map((v, i) => v - x.err[i])), s.baseB.mean - s.baseB.std];
  return lineChart({
    title: `Transfer ${outcome.name}: top-1 accuracy on B vs n`,
    xLabel: `n = stages copied (${ns.map((n) => `${n}: ${stageNames[n - 1]}`).join(', ')})`,
    yLabel: 'test accuracy on B',
    xTicks: ns,
    xMin: ns[0] - 0.2,
    xMax: ns[ns.length - 1] + 0.2,
    yMin: Math.max(0, Math.floor(Math.min(...all.filter(Number.isFinite)) * 20) / 20),
    yMax: 1,
    width: 560,
    height: 320,
    series: [
      ...series,
      {
        name: 'baseB',
        x: [ns[0] - 0.2, ns[ns.length - 1] + 0.2],
        y: [s.baseB.mean, s.baseB.mean],
        color: '#333333',
        dashed: true,
      },
    ],
  });
}

function standardError(stds: number[], baseStd: number, seeds: number): number {
  const all = [...stds, baseStd];
  return all.reduce((a, v) => a + v, 0) / all.length / Math.sqrt(Math.max(1, seeds));
}

const sign = (v: number): string => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)} pts`;

/** The paper's figures, shared by the claims table and the headlines. */
const PAPER_ANB = 'AnB ≈ baseB at n = 1-2, slightly worse at 3, clearly worse at 4-7';
const PAPER_ANB_PLUS = '+1.6 pts on average over n = 1..7 (+2.1 for n >= 5)';

/** The key numbers of one split: AnB at the first and deepest n, and the mean gains of AnB+ and BnB+ over baseB. */
function keyNumbers(outcome: TransferSplitOutcome) {
  const s = outcome.summary;
  const base = s.baseB.mean;
  const at = (k: TransferKind) => s.series[k];
  const anb = at('AnB');
  const meanGain = (k: TransferKind) =>
    at(k).reduce((a, p) => a + p.mean - base, 0) / Math.max(1, at(k).length);
  return { s, base, at, anb, anbPlus: meanGain('AnB+'), bnbPlus: meanGain('BnB+') };
}

function claims(outcome: TransferSplitOutcome): string {
  const { s, base, at, anb, anbPlus, bnbPlus } = keyNumbers(outcome);
  const bnb = at('BnB');
  const interior = bnb.slice(0, -1);
  const worst = interior.reduce((w, p) => (p.mean < w.mean ? p : w), interior[0] ?? bnb[0]);
  const dip = base - worst.mean;
  const noise = Math.max(s.baseB.std, worst.std, 0.005);
  const anbDrop = anb.length ? anb[0].mean - anb[anb.length - 1].mean : Number.NaN;
  const seeds = outcome.results.seeds.length;
  return claimsTable([
    {
      claim: 'baseB top-1 accuracy',
      paper: '62.5% (500 ImageNet classes, 8-layer net)',
      ours: `${(100 * base).toFixed(1)}% ± ${(100 * s.baseB.std).toFixed(1)} (5 digits, ${seeds} seeds)`,
      note: 'A 5-way digit task is far easier than 500-way ImageNet; only the differences between treatments compare.',
    },
    {
      claim: 'BnB dips at middle layers (fragile co-adaptation), n < last',
      paper: 'drops at n = 3-6, worst at 4-5 (about -3 to -5 pts), recovers at 6-7',
      ours: `worst interior BnB at n = ${worst?.n}: ${sign(-dip)} vs baseB`,
      holds: dip > 2 * noise,
      note: 'Our nets have 4 stages (n = 1..3), so there is little room for a "middle"; short training favours frozen layers that came from a net trained on the same task.',
    },
    {
      claim: 'AnB falls with depth (specialisation of higher layers)',
      paper: PAPER_ANB,
      ours: `AnB at n = ${anb[0]?.n}: ${sign(anb[0]?.mean - base)}; at n = ${anb[anb.length - 1]?.n}: ${sign(anb[anb.length - 1]?.mean - base)}`,
      holds: anbDrop > 2 * Math.max(anb[0]?.std ?? 0, anb[anb.length - 1]?.std ?? 0, 0.005),
      note: 'The digits of A and B share strokes; the higher layers (fc1) encode the A classes.',
    },
    {
      claim: 'AnB+ beats baseB (transfer + fine-tuning generalises better)',
      paper: PAPER_ANB_PLUS,
      ours: `${sign(anbPlus)} on average over n = ${outcome.results.ns.join(', ')}`,
      // A gain counts when it exceeds the standard error of the mean over seeds.
      holds:
        anbPlus >
        standardError(
          at('AnB+').map((p) => p.std),
          s.baseB.std,
          seeds,
        ),
      note: 'One short schedule for every net; the paper trained to convergence on about 645k images per task.',
    },
    {
      claim: 'BnB+ recovers baseB',
      paper: 'BnB+ ≈ baseB at every n',
      ours: `${sign(bnbPlus)} on average`,
      holds: Math.abs(bnbPlus) <= Math.max(2 * s.baseB.std, 0.01),
    },
  ]);
}

/** The `transfer` report section. */
export const transfer: ReportSection<TransferSectionResult> = {
  id: 'transfer',
  title: 'How transferable are features? (Yosinski et al. 2014; Oquab et al. 2014)',
  run,
  headlines(r) {
    const keys = r.splits.map((o) => ({ o, ...keyNumbers(o) }));
    const seeds = r.splits[0]?.results.seeds.length ?? 0;
    return [
      {
        claim: 'AnB+ (transferred and fine-tuned) minus baseB, mean over n',
        paper: PAPER_ANB_PLUS,
        ours: `${seeds} seeds, n = ${r.splits[0]?.results.ns.join(', ')}: ${keys.map((k) => `${sign(k.anbPlus)} (${k.o.name})`).join('; ')}`,
      },
      {
        claim: 'AnB (transferred, frozen) minus baseB at the deepest n',
        paper: PAPER_ANB,
        ours: keys
          .map((k) => {
            const deepest = k.anb[k.anb.length - 1];
            if (!deepest) return `no AnB runs (${k.o.name})`;
            return `${sign(deepest.mean - k.base)} at n = ${deepest.n} (${r.stageNames[deepest.n - 1]}; ${k.o.name})`;
          })
          .join('; '),
      },
    ];
  },
  render(r) {
    const c = r.config;
    const arch = `conv ${c.architecture.kernelSizes?.[0]}x${c.architecture.kernelSizes?.[0]}x${c.architecture.filters?.[0]} - pool - conv ${c.architecture.kernelSizes?.[1]}x${c.architecture.kernelSizes?.[1]}x${c.architecture.filters?.[1]} - pool - fc ${c.architecture.hidden?.[0]} - 5`;
    const parts: string[] = [
      paragraph(
        `Yosinski et al. train baseA and baseB on two halves of the classes, then build networks whose first n layers come from baseA (AnB) or baseB (BnB, the "selfer" control), frozen, or fine-tuned (AnB+, BnB+), with the upper layers re-initialised and trained on B. Here: MNIST digits, ${r.trainPerTask} training and ${r.testPerTask} test digits per task, the reference CNN${r.mode === 'full' ? '' : ' at half width'} (${arch}), n over its ${r.stageNames.length} weight-bearing stages (${r.stageNames.join(', ')}), ${c.epochs} epoch(s) of Adam (lr ${c.learningRate}, batch ${c.batchSize}) for every network, ${c.seeds} seeds; built with LayerTransfer and TransferExperiment on the ${r.backend} backend.`,
      ),
    ];
    for (const o of r.splits) {
      const t = transferTable(o.summary);
      parts.push(
        `<h3>${o.name === 'random split' ? `Random split: A = {${o.results.classesA.join(', ')}}, B = {${o.results.classesB.join(', ')}}` : 'Digits 0-4 (A) vs 5-9 (B)'}</h3>`,
        figure(
          chart(o, r.stageNames),
          `Mean test accuracy on B over ${o.results.seeds.length} seeds (error bars: ± 1 sd); dashed: baseB. Compare Yosinski et al. Fig. 2.`,
        ),
        table(
          t.header.map((h) => (h === 'n' ? 'n (stage)' : `${h} (%)`)),
          t.rows.map((row) => [
            row[0] === 'baseB' ? 'baseB' : `${row[0]} (${r.stageNames[Number(row[0]) - 1]})`,
            ...row.slice(1),
          ]),
          `Top-1 accuracy on B's test digits, mean ± sd over seeds${o.resumedRuns ? ` (${o.resumedRuns} runs resumed from an interrupted report)` : ''}. baseA on A: ${(100 * o.summary.baseA.mean).toFixed(1)}%.`,
        ),
        claims(o),
      );
    }
    parts.push(
      note(
        `What differs at this scale: 5-class digit tasks instead of 500 ImageNet classes, a 4-stage CNN instead of 8 layers, and ${c.epochs} epoch(s) on a few hundred digits per class instead of training to convergence. With such short training, frozen layers that came from a trained net give the upper layers a head start, and re-initialised layers are under-trained; differences of a point or less are within the seed noise shown by the error bars. The frozen layers here carry no BatchNormalization; LayerTransfer's BN policy is tested separately. Median time per network: ${r.medianRunSeconds.toFixed(1)} s; section: ${r.seconds.toFixed(0)} s.`,
      ),
    );
    return parts.join('\n');
  },
};
