/**
 * The specialists section's experiment: per seed, a generalist MLP on Fashion-MNIST, its confusions on held-out
 * training images clustered into sets of confusable classes, one specialist per set (copies of the generalist
 * trained on enriched data, {@link SpecialistEnsemble}), and the control: the same generalist trained as many more
 * epochs on all its training data. Everything is scored on the test part, which chooses nothing.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  clusterClasses,
  hintonMlp,
  LayerTransfer,
  Rng,
  SpecialistEnsemble,
  trainClassifier,
} from '../../../index.js';
import type { ImagePart } from '../../../node/datasets.js';
import { imagesOf, range, sharedFashion } from '../../data.js';
import type { ReportContext } from '../../types.js';
import {
  type Scores,
  type SpecialistsConfig,
  type SpecialistsResult,
  type SpecialistsRun,
  specialistsConfig,
} from './config.js';

function argmaxRows(values: ArrayLike<number>, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / cols; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out.push(best);
  }
  return out;
}

async function predictClasses(model: tfl.LayersModel, x: tf.Tensor): Promise<number[]> {
  const y = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor, 1));
  try {
    return Array.from(await y.data());
  } finally {
    y.dispose();
  }
}

/** Share of rows (kept by `keep`) where `pred` equals `labels`; null over no rows. */
export function accuracyOn(
  pred: readonly number[],
  labels: readonly number[],
  keep?: (i: number) => boolean,
): number | null {
  let n = 0;
  let ok = 0;
  for (let i = 0; i < labels.length; i++) {
    if (keep && !keep(i)) continue;
    n++;
    if (pred[i] === labels[i]) ok++;
  }
  return n ? ok / n : null;
}

/** Accuracy per true class `0..numClasses-1` (null for a class with no rows). */
export function perClass(
  pred: readonly number[],
  labels: readonly number[],
  numClasses: number,
): (number | null)[] {
  return Array.from({ length: numClasses }, (_, c) => accuracyOn(pred, labels, (i) => labels[i] === c));
}

function scores(pred: readonly number[], labels: readonly number[], covered: (i: number) => boolean): Scores {
  return { accuracy: accuracyOn(pred, labels) ?? 0, covered: accuracyOn(pred, labels, covered) };
}

/**
 * Where the experiment trains and what it scores: the section trains on the whole training part and scores the test
 * part; the development script (scripts/specialists-dev.ts) trains on the training part minus a dev split and
 * scores that dev split, so a recipe is chosen without reading the test part.
 */
export interface SpecialistsData {
  /** The part the generalist, its held-out draw, the specialists and the control come from. */
  train: ImagePart;
  /** The rows of `train` they may use (the held-out draw is taken from these). */
  trainRows: readonly number[];
  /** The part scored. */
  evaluate: ImagePart;
  /** The rows of `evaluate` scored. */
  evaluateRows: readonly number[];
  /** Number of classes (10). */
  numClasses: number;
  /** Class names by label. */
  classNames: readonly string[];
}

/** The generalist, trained once per section run, and what every seed shares with it. */
interface Generalist {
  model: tfl.LayersModel;
  xTrain: tf.Tensor4D;
  yTrain: tf.Tensor1D;
  trainLabels: number[];
  nHeld: number;
  clustering: ReturnType<typeof clusterClasses>;
  seconds: number;
  dispose(): void;
}

/** Trains the generalist on the training part minus a held-out draw, and clusters its held-out confusions. */
async function trainGeneralist(
  ctx: ReportContext,
  cfg: SpecialistsConfig,
  data: SpecialistsData,
  seed: number,
): Promise<Generalist> {
  const tg = performance.now();
  // A permutation of the usable rows (with every row usable, the same draw as a permutation of the part).
  const order = new Rng(seed + 8).permutation(data.trainRows.length).map((i) => data.trainRows[i]);
  const nHeld = Math.round(cfg.heldOutFraction * data.trainRows.length);
  const heldRows = order.slice(0, nHeld);
  const trainRows = order.slice(nHeld);
  const trainLabels = trainRows.map((r) => data.train.labels[r]);
  const heldLabels = heldRows.map((r) => data.train.labels[r]);
  const xTrain = imagesOf(data.train, trainRows);
  const yTrain = tf.tensor1d(trainLabels, 'int32');
  const model = hintonMlp({ hidden: cfg.hidden, dropout: 0, inputDropout: 0, seed });
  const dispose = () => {
    tf.dispose([xTrain, yTrain]);
    model.dispose();
  };
  try {
    await trainClassifier(model, xTrain, yTrain, {
      epochs: cfg.generalistEpochs,
      batchSize: cfg.batchSize,
      learningRate: cfg.learningRate,
      seed,
      onProgress: (e) => e.phase === 'train' && ctx.progress({ ...e, phase: 'specialists: generalist' }),
    });
    // Its confusions on held-out training images, clustered.
    const xHeld = imagesOf(data.train, heldRows);
    let held: Float32Array | Int32Array | Uint8Array;
    try {
      const probs = tf.tidy(() => tf.softmax(model.predict(xHeld) as tf.Tensor));
      held = await probs.data();
      probs.dispose();
    } finally {
      xHeld.dispose();
    }
    const clustering = clusterClasses(held, data.numClasses, {
      method: 'confusion',
      labels: heldLabels,
      k: { min: 2, max: cfg.kMax },
      seed,
    });
    ctx.log(
      `specialists: clusters ${clustering.clusters
        .filter((c) => c.classes.length > 1)
        .map((c) => `{${c.classes.map((k) => data.classNames[k]).join(', ')}}`)
        .join(' ')}`,
    );
    return {
      model,
      xTrain,
      yTrain,
      trainLabels,
      nHeld,
      clustering,
      seconds: (performance.now() - tg) / 1000,
      dispose,
    };
  } catch (e) {
    dispose();
    throw e;
  }
}

async function runSeed(
  ctx: ReportContext,
  cfg: SpecialistsConfig,
  data: SpecialistsData,
  xTest: tf.Tensor4D,
  g: Generalist,
  seed: number,
): Promise<SpecialistsRun> {
  const t0 = performance.now();
  const numClasses = data.numClasses;
  const testLabels = data.evaluateRows.map((r) => data.evaluate.labels[r]);
  const { model: generalist, xTrain, yTrain, trainLabels, clustering, nHeld } = g;
  const generalistSeconds = g.seconds;
  const models: { dispose(): void }[] = [];
  try {
    const tag = `s${seed}`;
    // 3. Specialists: copies of the generalist with a new head, trained on enriched samples.
    const ts = performance.now();
    const ensemble = await SpecialistEnsemble.train(generalist, xTrain, trainLabels, {
      clusters: clustering,
      sampling: { subsetFraction: cfg.subsetFraction, seed },
      training: {
        epochs: cfg.extraEpochs,
        batchSize: cfg.batchSize,
        learningRate: cfg.specialistLearningRate,
      },
      onProgress: (e) => ctx.progress({ ...e, phase: `specialists: specialists ${tag}` }),
    });
    models.push(ensemble);
    const specialistSeconds = (performance.now() - ts) / 1000;
    const specs = ensemble.specialists;

    // 4. The control: the generalist trained as many more epochs on all its training data; and, when the config
    // names one, the tuned control: the same at the rate that suited the control best on the dev split.
    const tc = performance.now();
    const trainControl = async (learningRate: number, phase: string) => {
      const copy = new LayerTransfer(generalist, { seed });
      models.push(copy);
      await trainClassifier(copy.model, xTrain, yTrain, {
        epochs: cfg.extraEpochs,
        batchSize: cfg.batchSize,
        learningRate,
        seed: seed + 2,
        onProgress: (e) =>
          e.phase === 'train' && ctx.progress({ ...e, phase: `specialists: ${phase} ${tag}` }),
      });
      return copy;
    };
    const control = await trainControl(cfg.controlLearningRate, 'control');
    const tuned =
      cfg.tunedControlLearningRate === null
        ? null
        : await trainControl(cfg.tunedControlLearningRate, 'tuned control');
    const controlSeconds = (performance.now() - tc) / 1000;

    // 5. Test.
    const cover = new Array<number>(numClasses).fill(0);
    for (const s of specs) for (const c of s.classes) cover[c]++;
    const covered = (i: number) => cover[testLabels[i]] > 0;
    const gPred = await predictClasses(generalist, xTest);
    const cPred = await predictClasses(control.model, xTest);
    const tPred = tuned ? await predictClasses(tuned.model, xTest) : null;
    const r = await ensemble.predictDetailed(xTest, { candidates: cfg.candidates });
    let ePred: number[];
    let act: ArrayLike<number>;
    try {
      ePred = argmaxRows(await r.probabilities.data(), numClasses);
      act = await r.active.data();
    } finally {
      tf.dispose([r.probabilities, r.generalist, r.active]);
    }
    const m = specs.length;
    const isActive = (i: number) => {
      for (let j = 0; j < m; j++) if (act[i * m + j] > 0) return true;
      return false;
    };
    return {
      seed,
      sizes: {
        train: trainLabels.length,
        heldOut: nHeld,
        test: testLabels.length,
        covered: testLabels.filter((_, i) => covered(i)).length,
      },
      generalist: scores(gPred, testLabels, covered),
      ensemble: scores(ePred, testLabels, covered),
      control: scores(cPred, testLabels, covered),
      tunedControl: tPred ? scores(tPred, testLabels, covered) : null,
      affinity: clustering.affinity,
      clusters: clustering.clusters.map((c) => ({ classes: c.classes, score: c.score })),
      specialists: specs.map((s) => ({
        classes: s.classes,
        score: clustering.clusters.find((c) => c.classes.join() === s.classes.join())?.score ?? 0,
        dustbinLogitShift: s.dustbinLogitShift,
      })),
      perClass: {
        generalist: perClass(gPred, testLabels, numClasses),
        control: perClass(cPred, testLabels, numClasses),
        tunedControl: tPred ? perClass(tPred, testLabels, numClasses) : null,
        ensemble: perClass(ePred, testLabels, numClasses),
      },
      active: {
        rows: testLabels.filter((_, i) => isActive(i)).length,
        generalist: accuracyOn(gPred, testLabels, isActive),
        ensemble: accuracyOn(ePred, testLabels, isActive),
      },
      solve: { iterations: r.iterations, converged: r.converged },
      seconds: {
        generalist: generalistSeconds,
        specialists: specialistSeconds,
        control: controlSeconds,
        total: (performance.now() - t0) / 1000,
      },
    };
  } finally {
    for (const m of models.reverse()) m.dispose();
  }
}

/**
 * The experiment on given training rows and scored rows: one generalist, then {@link SpecialistsConfig.seeds} seeds
 * of specialists and control (seeds `seed + 1`, `seed + 2`, ...; the generalist's seed is `seed`). Frees every
 * tensor it makes.
 *
 * @example
 * ```ts
 * const runs = await runSpecialistsOn(ctx, cfg, { train, trainRows, evaluate, evaluateRows, numClasses: 10, classNames }, 300);
 * ```
 */
export async function runSpecialistsOn(
  ctx: ReportContext,
  cfg: SpecialistsConfig,
  data: SpecialistsData,
  seed: number,
): Promise<SpecialistsRun[]> {
  const xTest = imagesOf(data.evaluate, data.evaluateRows);
  let generalist: Generalist | undefined;
  try {
    // One generalist (as in the paper); the seeds vary the specialists' and the control's training.
    generalist = await trainGeneralist(ctx, cfg, data, seed);
    const runs: SpecialistsRun[] = [];
    for (let i = 0; i < cfg.seeds; i++) {
      const run = await runSeed(ctx, cfg, data, xTest, generalist, seed + 1 + i);
      runs.push(run);
      ctx.log(
        `specialists: seed ${run.seed}: generalist ${(run.generalist.accuracy * 100).toFixed(2)}%, ensemble ${(run.ensemble.accuracy * 100).toFixed(2)}%, control ${(run.control.accuracy * 100).toFixed(2)}%${run.tunedControl ? `, tuned control ${(run.tunedControl.accuracy * 100).toFixed(2)}%` : ''}`,
      );
    }
    return runs;
  } finally {
    xTest.dispose();
    generalist?.dispose();
  }
}

/**
 * Runs the section: loads the shared Fashion-MNIST split, then {@link runSpecialistsOn} on the whole training part,
 * scored on the test part.
 *
 * @example
 * ```ts
 * const result = await runSpecialists(ctx, { ...specialistsConfig('quick'), seeds: 1 });
 * ```
 */
export async function runSpecialists(
  ctx: ReportContext,
  config?: SpecialistsConfig,
): Promise<SpecialistsResult> {
  const t0 = performance.now();
  const cfg = config ?? specialistsConfig(ctx.mode);
  const data = await sharedFashion(ctx, { limitPerClass: cfg.limitPerClass, testFraction: cfg.testFraction });
  const runs = await runSpecialistsOn(
    ctx,
    cfg,
    {
      train: data.train,
      trainRows: range(data.train.size),
      evaluate: data.test,
      evaluateRows: range(data.test.size),
      numClasses: data.numClasses,
      classNames: data.classNames,
    },
    ctx.seed + 300,
  );
  return {
    mode: ctx.mode,
    backend: ctx.backend,
    config: cfg,
    classNames: [...data.classNames],
    runs,
    seconds: (performance.now() - t0) / 1000,
  };
}
