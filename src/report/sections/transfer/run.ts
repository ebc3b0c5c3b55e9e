/**
 * The transfer section's experiment: Yosinski et al. (2014)'s AnB / BnB / AnB+ / BnB+ networks for every n, on a
 * similar pair of tasks (A = digits 0-4, B = digits 5-9) and a dissimilar pair (A = five Fashion-MNIST clothes, the
 * same B), with {@link TransferExperiment}. Both splits use the same seeds, so they pair up. Runs are saved after
 * every network, so an interrupted report resumes where it stopped.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  modelStructure,
  TransferExperiment,
  type TransferKind,
  type TransferResults,
  type TransferRun,
  zeilerFergusCnn,
} from '../../../index.js';
import { TRANSFER_KINDS } from '../../../internal.js';
import { loadFashionMnist, loadMnist } from '../../../node.js';
import type { ReportContext } from '../../types.js';
import {
  type TransferSectionConfig,
  type TransferSectionResult,
  type TransferSplitOutcome,
  transferSectionConfig,
} from './config.js';

/** Labels of the clothes in the combined label space (digits keep 0-9). */
const CLOTHES_OFFSET = 10;

interface CacheFile {
  config: TransferSectionConfig;
  results: TransferResults;
}

type Labeled = { x: tf.Tensor; labels: number[] };

/**
 * The B-side networks of a finished split (baseB, BnB, BnB+) as `resume` results for another split with the same B,
 * the same seeds and the same training but another A (`classesA`): those networks never see A (their seeds derive
 * from the repeat's seed alone, their data is B's), so they are the same networks and are not trained again.
 *
 * @example
 * ```ts
 * const dissimilar = new TransferExperiment(data, { ...options, resume: sharedBSide(similar, [10, 11, 12, 13, 14]) });
 * ```
 */
export function sharedBSide(done: TransferResults, classesA: readonly number[]): TransferResults {
  return {
    ...done,
    classesA: [...classesA],
    runs: done.runs.filter((r) => r.kind === 'baseB' || r.kind === 'BnB' || r.kind === 'BnB+'),
  };
}

async function runSplit(
  ctx: ReportContext,
  cfg: TransferSectionConfig,
  name: TransferSplitOutcome['name'],
  taskA: string,
  classesA: number[],
  classesB: number[],
  data: { train: Labeled; test: Labeled },
  kinds: readonly TransferKind[],
  shared?: TransferResults,
): Promise<TransferSplitOutcome> {
  const file = path.join(ctx.cacheDir, `transfer-runs-${name}.json`);
  let resume: TransferResults | undefined = shared === undefined ? undefined : sharedBSide(shared, classesA);
  if (existsSync(file)) {
    const cached = JSON.parse(await readFile(file, 'utf8')) as CacheFile;
    const same =
      JSON.stringify(cached.config) === JSON.stringify(cfg) &&
      JSON.stringify(cached.results.classesA) === JSON.stringify(classesA);
    if (same) {
      const key = (r: TransferRun) => `${r.kind}|${r.n}|${r.seed}`;
      const have = new Set(cached.results.runs.map(key));
      const extra = (resume?.runs ?? []).filter((r) => !have.has(key(r)));
      resume = { ...cached.results, runs: [...cached.results.runs, ...extra] };
    }
  }
  await mkdir(ctx.cacheDir, { recursive: true });
  const seeds = Array.from({ length: cfg.seeds }, (_, i) => ctx.seed * 100 + i + 1);
  const experiment = new TransferExperiment(
    { train: data.train, test: data.test, classesA, classesB },
    {
      modelFactory: (numClasses, seed) => zeilerFergusCnn({ ...cfg.architecture, numClasses, seed }),
      seeds,
      kinds: [
        ...new Set([
          ...kinds,
          ...(shared === undefined ? [] : shared.kinds.filter((k) => k.startsWith('B'))),
        ]),
      ],
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
      onProgress: (e) => {
        if (e.phase === 'transfer') ctx.progress({ ...e, phase: `transfer: networks (${name})` });
      },
    },
  );
  const results = await experiment.run();
  return { name, taskA, results };
}

/**
 * Runs the section: loads digits (`mnist`) and clothes (`fashion-mnist`), then both splits.
 *
 * @example
 * ```ts
 * const result = await runTransfer(ctx, { ...transferSectionConfig('quick'), seeds: 2 });
 * ```
 */
export async function runTransfer(
  ctx: ReportContext,
  config?: TransferSectionConfig,
): Promise<TransferSectionResult> {
  const t0 = performance.now();
  const cfg = config ?? transferSectionConfig(ctx.mode);
  const split = { seed: ctx.seed, testFraction: cfg.testFraction, limitPerClass: cfg.perClass };
  const digits = await loadMnist(split);
  const clothes = await loadFashionMnist({ ...split, classes: cfg.clothes });
  const owned: tf.Tensor[] = [];
  try {
    const join = (d: typeof digits.train, c: typeof clothes.train): Labeled => {
      const x = tf.concat([d.x, c.x], 0);
      owned.push(x);
      return { x, labels: [...d.labels, ...c.labels.map((l) => l + CLOTHES_OFFSET)] };
    };
    const data = { train: join(digits.train, clothes.train), test: join(digits.test, clothes.test) };
    const probe = zeilerFergusCnn({ ...cfg.architecture, numClasses: 5, seed: 0 });
    const structure = modelStructure(probe);
    probe.dispose();
    const stageNames = Array.from(
      { length: structure.stages },
      (_, s) => structure.leaves.find((l) => l.stage === s && l.hasWeights)?.key ?? `stage ${s + 1}`,
    );
    const digitsB = [5, 6, 7, 8, 9];
    const similar = await runSplit(
      ctx,
      cfg,
      'similar',
      'digits 0-4',
      [0, 1, 2, 3, 4],
      digitsB,
      data,
      TRANSFER_KINDS,
    );
    // The dissimilar split has the same B, seeds and training: its baseB, BnB and BnB+ are the similar split's.
    const dissimilar = await runSplit(
      ctx,
      cfg,
      'dissimilar',
      `clothes (${cfg.clothes.map((c) => clothes.classNames[clothes.classes.indexOf(c)] ?? c).join(', ')})`,
      cfg.clothes.map((c) => c + CLOTHES_OFFSET),
      digitsB,
      data,
      cfg.dissimilarKinds,
      similar.results,
    );
    const splits: TransferSplitOutcome[] = [similar, dissimilar];
    // Every network once: the dissimilar split's B side is the similar split's.
    const own = [
      ...similar.results.runs,
      ...dissimilar.results.runs.filter((r) => r.kind.startsWith('A') || r.kind === 'baseA'),
    ];
    const times = own.map((r) => r.ms / 1000).sort((p, q) => p - q);
    const perTask = (labels: number[]) => labels.filter((l) => l >= 5 && l <= 9).length;
    return {
      mode: ctx.mode,
      backend: ctx.backend,
      seconds: (performance.now() - t0) / 1000,
      config: cfg,
      trainPerTask: perTask(digits.train.labels),
      testPerTask: perTask(digits.test.labels),
      stageNames,
      splits,
      medianRunSeconds: times.length ? times[Math.floor(times.length / 2)] : Number.NaN,
      networks: own.length,
    };
  } finally {
    tf.dispose(owned);
    digits.dispose();
    clothes.dispose();
  }
}
