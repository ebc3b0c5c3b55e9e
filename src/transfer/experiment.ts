/**
 * Yosinski et al.'s transferability experiment (NIPS 2014, "How transferable are features in deep neural
 * networks?", Sec. 2-4): train baseA on classes A and baseB on classes B; for each n, AnB / BnB copy the first n
 * layers of baseA / baseB, freeze them, re-initialise the rest and train on B; AnB+ / BnB+ fine-tune the copied
 * layers too. Accuracy on B's test set vs n shows fragile co-adaptation (BnB dips) and specialisation (AnB drops).
 * The runner; its types are in `experiment-types.ts`, the summary of its results in `summary.ts`.
 *
 * @module
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { evaluateClassifier } from '../classify/evaluate.js';
import {
  checkInteger,
  checkNonEmptyArray,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  checkTensor,
  isTensor,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import type { LabeledData } from '../core/types.js';
import { modelStructure } from '../model/structure.js';
import { deriveSeed } from './config.js';
import { type ClassSubset, selectClasses } from './data.js';
import {
  TRANSFER_KINDS,
  type TransferExperimentData,
  type TransferExperimentOptions,
  type TransferResults,
  type TransferRun,
  type TransferRunKind,
} from './experiment-types.js';
import { LayerTransfer } from './layer-transfer.js';
import { trainWithGroups } from './train.js';

const FN = 'TransferExperiment';

function runKey(kind: TransferRunKind, n: number, seed: number): string {
  return `${kind}|${n}|${seed}`;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** The known keys of {@link TransferExperimentOptions}. */
const TRANSFER_EXPERIMENT_OPTION_KEYS = knownKeys<TransferExperimentOptions>({
  modelFactory: true,
  training: true,
  fineTuneCopiedLearningRate: true,
  ns: true,
  seeds: true,
  kinds: true,
  batchNorm: true,
  resume: true,
  onRun: true,
  onProgress: true,
});

/**
 * Runs baseA, baseB and, for every n and seed, AnB, BnB, AnB+ and BnB+, and returns the accuracies. Summarise
 * with {@link summarizeTransfer}.
 *
 * @example
 * ```ts
 * const exp = new TransferExperiment(
 *   { train, test, classesA: [0, 1, 2, 3, 4], classesB: [5, 6, 7, 8, 9] },
 *   { modelFactory: (k, seed) => makeCnn(k, seed), seeds: [1, 2], training: { epochs: 1, batchSize: 64 } },
 * );
 * const results = await exp.run();
 * const summary = summarizeTransfer(results); // mean and std per treatment and n, baseB
 * ```
 */
export class TransferExperiment {
  private readonly data: TransferExperimentData;
  private readonly options: TransferExperimentOptions;

  /**
   * @throws {@link InvalidArgumentError} for overlapping or empty class groups, a missing model factory, bad
   * seeds, kinds or training options
   */
  constructor(data: TransferExperimentData, options: TransferExperimentOptions) {
    if (typeof data !== 'object' || data === null) {
      throw new InvalidArgumentError(FN, 'data', 'an object { train, test, classesA, classesB }', data);
    }
    checkNonEmptyArray(FN, 'data.classesA', data.classesA);
    checkNonEmptyArray(FN, 'data.classesB', data.classesB);
    for (const key of ['classesA', 'classesB'] as const) {
      if (data[key].length < 2) {
        throw new InvalidArgumentError(
          FN,
          `data.${key}`,
          'at least 2 classes (a task to classify)',
          data[key],
        );
      }
      data[key].forEach((c, i) => {
        checkInteger(FN, `data.${key}[${i}]`, c, 0, LIMITS.maxClasses - 1);
      });
    }
    for (const key of ['train', 'test'] as const) {
      const d = data[key];
      if (typeof d !== 'object' || d === null) {
        throw new InvalidArgumentError(FN, `data.${key}`, 'labelled data { x, labels }', d);
      }
      checkTensor(FN, `data.${key}.x`, d.x);
      const labels = d.labels as { length?: unknown; shape?: number[] } | null;
      const count = isTensor(labels) ? labels.shape[0] : labels?.length;
      if (typeof count !== 'number' || (isTensor(labels) && labels.rank !== 1)) {
        throw new InvalidArgumentError(
          FN,
          `data.${key}.labels`,
          'class indices (an array or a Tensor1D)',
          labels,
        );
      }
      if (count !== d.x.shape[0]) {
        throw new ShapeMismatchError(FN, `data.${key}.labels`, `${d.x.shape[0]} labels (one per input)`, [
          count,
        ]);
      }
    }
    const overlap = data.classesA.filter((c) => data.classesB.includes(c));
    if (overlap.length > 0) {
      throw new InvalidArgumentError(FN, 'data.classesB', 'classes disjoint from classesA', overlap);
    }
    const opts = checkOptions(FN, 'options', options);
    checkOptionKeys(FN, 'options', opts, TRANSFER_EXPERIMENT_OPTION_KEYS);
    if (typeof opts.modelFactory !== 'function') {
      throw new InvalidArgumentError(
        FN,
        'options.modelFactory',
        'a function (numClasses, seed) => LayersModel',
        opts.modelFactory,
      );
    }
    const seeds = opts.seeds ?? [0];
    checkNonEmptyArray(FN, 'options.seeds', seeds);
    seeds.forEach((s, i) => {
      checkInteger(FN, `options.seeds[${i}]`, s);
    });
    const kinds = opts.kinds ?? TRANSFER_KINDS;
    checkNonEmptyArray(FN, 'options.kinds', kinds);
    for (const k of kinds) {
      if (!TRANSFER_KINDS.includes(k)) {
        throw new InvalidArgumentError(FN, 'options.kinds', `kinds among {${TRANSFER_KINDS.join(', ')}}`, k);
      }
    }
    if (opts.ns !== undefined) {
      checkNonEmptyArray(FN, 'options.ns', opts.ns);
      opts.ns.forEach((n, i) => {
        checkInteger(FN, `options.ns[${i}]`, n, 1);
      });
    }
    if (opts.fineTuneCopiedLearningRate !== undefined) {
      checkPositive(FN, 'options.fineTuneCopiedLearningRate', opts.fineTuneCopiedLearningRate);
    }
    if (opts.resume !== undefined) {
      const r = opts.resume;
      const same = (p: readonly number[], q: readonly number[]): boolean =>
        p.length === q.length && p.every((v, i) => v === q[i]);
      if (
        r?.version !== 1 ||
        !Array.isArray(r.runs) ||
        !same(r.classesA, data.classesA) ||
        !same(r.classesB, data.classesB)
      ) {
        throw new InvalidArgumentError(
          FN,
          'options.resume',
          'results (version 1) of an experiment with the same classesA and classesB',
          r,
        );
      }
    }
    this.data = data;
    this.options = { ...opts, seeds, kinds };
  }

  /**
   * Runs every network that `resume` does not already hold. Each base network is trained once per seed (again on
   * resume, when treatments of that seed are still missing; the recorded base result is kept).
   *
   * @throws {@link InvalidArgumentError} when an n is not in [1, stages - 1] of the factory's networks
   */
  async run(): Promise<TransferResults> {
    const opts = this.options;
    const seeds = [...(opts.seeds ?? [0])];
    const kinds = [...(opts.kinds ?? TRANSFER_KINDS)];
    const classesA = [...this.data.classesA];
    const classesB = [...this.data.classesB];
    const subsets: ClassSubset[] = [];
    const models: tfl.LayersModel[] = [];
    try {
      const trainA = await selectClasses(this.data.train, classesA);
      subsets.push(trainA);
      const testA = await selectClasses(this.data.test, classesA);
      subsets.push(testA);
      const trainB = await selectClasses(this.data.train, classesB);
      subsets.push(trainB);
      const testB = await selectClasses(this.data.test, classesB);
      subsets.push(testB);

      const results: TransferResults = {
        version: 1,
        classesA,
        classesB,
        stages: 0,
        ns: [],
        seeds,
        kinds,
        runs: opts.resume ? [...opts.resume.runs] : [],
      };
      const done = new Set(results.runs.map((r) => runKey(r.kind, r.n, r.seed)));
      let total = 0;
      let finished = 0;
      const training = opts.training ?? {};
      const record = async (run: TransferRun): Promise<void> => {
        results.runs.push(run);
        done.add(runKey(run.kind, run.n, run.seed));
        finished++;
        opts.onProgress?.({
          phase: 'transfer',
          done: finished,
          total,
          metrics: { n: run.n, accuracy: run.accuracy },
        });
        await opts.onRun?.(run, results);
      };
      const trainAndEvaluate = async (
        model: tfl.LayersModel,
        train: LabeledData,
        test: LabeledData,
        seed: number,
        transfer?: LayerTransfer,
        copiedLr?: number,
      ): Promise<{ accuracy: number; trainLoss: number; ms: number }> => {
        const t0 = now();
        const history = transfer
          ? await transfer.fineTune(train, {
              ...training,
              seed,
              onProgress: opts.onProgress,
              copiedLearningRate: copiedLr,
            })
          : await trainWithGroups(model, train, { ...training, seed, onProgress: opts.onProgress });
        const { accuracy } = await evaluateClassifier(model, test);
        return { accuracy, trainLoss: history.loss[history.loss.length - 1], ms: now() - t0 };
      };

      for (const [name, subset] of [
        ['data.train', trainA],
        ['data.test', testA],
        ['data.train', trainB],
        ['data.test', testB],
      ] as const) {
        if (subset.x.shape[0] === 0) {
          throw new InvalidArgumentError(
            FN,
            name,
            `examples of the classes [${subset.classes.join(', ')}]`,
            'none of them',
          );
        }
      }
      const build = (numClasses: number, seed: number): tfl.LayersModel => {
        const m = opts.modelFactory(numClasses, seed);
        if (typeof m !== 'object' || m === null || typeof (m as tfl.LayersModel).getConfig !== 'function') {
          throw new InvalidArgumentError(FN, 'options.modelFactory', 'a function returning a LayersModel', m);
        }
        models.push(m);
        return m;
      };
      for (const seed of seeds) {
        const baseA = build(classesA.length, deriveSeed(seed, 'baseA'));
        const stages = modelStructure(baseA).stages;
        if (stages < 2) {
          throw new InvalidArgumentError(
            FN,
            'options.modelFactory',
            'networks with at least 2 weight-bearing stages',
            stages,
          );
        }
        const ns = opts.ns ? [...opts.ns] : Array.from({ length: stages - 1 }, (_, i) => i + 1);
        ns.forEach((n, i) => {
          checkInteger(FN, `options.ns[${i}]`, n, 1, stages - 1);
        });
        results.stages = stages;
        results.ns = ns;
        if (total === 0) {
          const planned = seeds.flatMap((s) => [
            runKey('baseA', 0, s),
            runKey('baseB', 0, s),
            ...ns.flatMap((n) => kinds.map((k) => runKey(k, n, s))),
          ]);
          total = planned.length;
          finished = planned.filter((k) => done.has(k)).length;
        }
        const todo = ns.flatMap((n) =>
          kinds.filter((k) => !done.has(runKey(k, n, seed))).map((k) => ({ n, k })),
        );
        const needA = !done.has(runKey('baseA', 0, seed)) || todo.some((t) => t.k.startsWith('A'));
        const needB = !done.has(runKey('baseB', 0, seed)) || todo.some((t) => t.k.startsWith('B'));
        if (needA) {
          const r = await trainAndEvaluate(baseA, trainA, testA, seed);
          if (!done.has(runKey('baseA', 0, seed))) await record({ kind: 'baseA', n: 0, seed, ...r });
        }
        const baseB = build(classesB.length, deriveSeed(seed, 'baseB'));
        if (needB) {
          const r = await trainAndEvaluate(baseB, trainB, testB, seed);
          if (!done.has(runKey('baseB', 0, seed))) await record({ kind: 'baseB', n: 0, seed, ...r });
        }
        for (const { n, k } of todo) {
          const base = k.startsWith('A') ? baseA : baseB;
          const t = new LayerTransfer(base, {
            copy: n,
            head: { kind: 'replace', numClasses: classesB.length },
            seed: deriveSeed(seed, 'transfer'),
            batchNorm: opts.batchNorm,
          });
          try {
            const fineTune = k.endsWith('+');
            if (!fineTune) t.freeze(n);
            const copiedLr = fineTune
              ? (opts.fineTuneCopiedLearningRate ?? training.learningRate)
              : undefined;
            const r = await trainAndEvaluate(t.model, trainB, testB, seed, t, copiedLr);
            await record({ kind: k, n, seed, ...r });
          } finally {
            t.dispose();
          }
        }
        for (const m of models.splice(0)) m.dispose();
      }
      return results;
    } finally {
      for (const m of models) m.dispose();
      for (const s of subsets) s.x.dispose();
    }
  }
}
