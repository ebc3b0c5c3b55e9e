/**
 * The features section's experiment: Fashion-MNIST images drawn once (a candidate pool and a development split from
 * the training part, a test set from the test part), their features extracted ONCE per run (raw pixels, the
 * report's digit CNN at several layers, nsfwjs's MobileNetV2), then per draw of the labelled examples a linear SVM on
 * each feature set and a CNN trained from scratch on the same examples, all scored on the same test images.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  accuracy,
  evaluateClassifier,
  FeatureExtractor,
  type FeatureMatrix,
  LinearSvm,
  MissingDependencyError,
  Rng,
  trainClassifier,
  zeilerFergusCnn,
} from '../../../index.js';
import type { ImageSplit } from '../../../node/datasets.js';
import { PRETRAINED_MODELS } from '../../../node.js';
import { imagesOf, labelsOf, sharedFashion } from '../../data.js';
import { referenceCnnConfig, sharedReferenceCnn } from '../../shared.js';
import type { ReportContext } from '../../types.js';
import { type FeatureSeries, type FeaturesConfig, type FeaturesResult, featuresConfig } from './config.js';
import { batches, loadMobileNet, normalized, pixels } from './sources.js';

type Part = ImageSplit['train'];

/** The same images as features: candidate pool, development split and test set. */
interface FeatureSet {
  id: string;
  label: string;
  pool: FeatureMatrix;
  dev: FeatureMatrix;
  test: FeatureMatrix;
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** L-BFGS iterations and relative tolerance of every SVM (fixed in advance, not tuned). */
const SVM_ITERATIONS = 100;
const SVM_TOL = 1e-4;

/** Test accuracy of a linear SVM (one-vs-rest, squared hinge, L-BFGS) fitted on `train`. */
async function svmAccuracy(
  train: FeatureMatrix,
  y: readonly number[],
  test: FeatureMatrix,
  testY: readonly number[],
  C: number,
): Promise<number> {
  const svm = new LinearSvm({ C, numClasses: 10, epochs: SVM_ITERATIONS, tol: SVM_TOL });
  try {
    await svm.fit(train, [...y]);
    return accuracy(testY, await svm.predict(test));
  } finally {
    svm.dispose();
  }
}

/** `perClass` rows of each class of `labels` after a seeded shuffle, skipping the first `skip` of each class. */
function drawPerClass(labels: readonly number[], perClass: number, rng: Rng, skip = 0): number[][] {
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  labels.forEach((l, i) => {
    byClass[l].push(i);
  });
  return byClass.map((rows) => {
    const order = rng.permutation(rows.length).map((k) => rows[k]);
    if (order.length < skip + perClass) {
      throw new RangeError(`features: a class has ${rows.length} images, ${skip + perClass} needed`);
    }
    return order.slice(skip, skip + perClass);
  });
}

/** The first `n` of each class's list (nested draws: the 5 of a draw contain its 1). */
function firstOf(perClass: readonly (readonly number[])[], n: number): number[] {
  return perClass.flatMap((rows) => rows.slice(0, n));
}

/** Runs the section's experiment (see the module comment). */
export async function runFeatures(ctx: ReportContext, config?: FeaturesConfig): Promise<FeaturesResult> {
  const start = performance.now();
  const cpu0 = cpuNow();
  const cfg = config ?? featuresConfig(ctx.mode);
  const fashion = await sharedFashion(ctx, {
    limitPerClass: cfg.limitPerClass,
    testFraction: cfg.testFraction,
  });
  const split = new Rng(ctx.seed + 101);
  const poolByClass = drawPerClass(fashion.train.labels, cfg.poolPerClass, split);
  const devRows = drawPerClass(
    fashion.train.labels,
    cfg.devPerClass,
    new Rng(ctx.seed + 101),
    cfg.poolPerClass,
  ).flat();
  const testRows = drawPerClass(fashion.test.labels, cfg.testPerClass, new Rng(ctx.seed + 102)).flat();
  const poolRows = poolByClass.flat();
  // Position of each pool row in `poolRows`, for selecting from the pool's feature matrices.
  const poolPos = poolByClass.map((rows, c) => rows.map((_, k) => c * cfg.poolPerClass + k));
  const poolY = poolRows.map((r) => fashion.train.labels[r]);
  const devY = devRows.map((r) => fashion.train.labels[r]);
  const testY = testRows.map((r) => fashion.test.labels[r]);

  const cpuRef0 = cpuNow();
  const ref = await sharedReferenceCnn(ctx);
  const cpuRef = cpuNow() - cpuRef0;

  const cpuX0 = cpuNow();
  const sets: FeatureSet[] = [
    {
      id: 'pixels',
      label: 'raw pixels',
      pool: pixels(fashion.train, poolRows),
      dev: pixels(fashion.train, devRows),
      test: pixels(fashion.test, testRows),
    },
  ];
  const total = poolRows.length + devRows.length + testRows.length;
  const extract = async (fx: FeatureExtractor, channels: 1 | 3, name: string) => {
    let done = 0;
    const one = async (part: Part, rows: number[]) => {
      const base = done;
      const out = await fx.extractAll(batches(part, rows, channels), {
        memoryBudgetMB: 64,
        total: rows.length,
        onProgress: (e) => ctx.progress({ phase: `features: ${name}`, done: base + e.done, total }),
      });
      done += rows.length;
      return out;
    };
    return {
      pool: await one(fashion.train, poolRows),
      dev: await one(fashion.train, devRows),
      test: await one(fashion.test, testRows),
    };
  };
  const digitFx = new FeatureExtractor(ref.model, { taps: cfg.digitLayers, normalize: 'l2' });
  try {
    const f = await extract(digitFx, 1, 'digit CNN features');
    for (const [k, layer] of cfg.digitLayers.entries()) {
      sets.push({
        id: `digit:${layer}`,
        label: `digit CNN ${layer}`,
        pool: f.pool[k],
        dev: f.dev[k],
        test: f.test[k],
      });
    }
  } finally {
    digitFx.dispose();
  }
  let mobilenet: FeaturesResult['mobilenet'];
  let mobileRaw: Omit<FeatureSet, 'id' | 'label'> | undefined;
  try {
    const net = await loadMobileNet(cfg.mobilenetInput);
    const featureLayer = PRETRAINED_MODELS.mobilenet_v2.featureLayer as string;
    const fx = new FeatureExtractor(net, { taps: [featureLayer] });
    try {
      const t0 = performance.now();
      const f = await extract(fx, 3, `MobileNetV2 features (${cfg.mobilenetInput}x${cfg.mobilenetInput})`);
      mobileRaw = { pool: f.pool[0], dev: f.dev[0], test: f.test[0] };
      mobilenet = {
        featureLayer,
        inputSize: cfg.mobilenetInput,
        msPerImage: (performance.now() - t0) / total,
      };
    } finally {
      fx.dispose();
      net.dispose();
    }
    sets.push({
      id: 'mobilenet',
      label: 'MobileNetV2',
      pool: await normalized(mobileRaw.pool, 'l2'),
      dev: await normalized(mobileRaw.dev, 'l2'),
      test: await normalized(mobileRaw.test, 'l2'),
    });
  } catch (e) {
    if (!(e instanceof MissingDependencyError)) throw e;
    mobilenet = { skipped: e.message };
    ctx.log(`features: MobileNetV2 skipped (${e.message})`);
  }
  const cpuExtract = cpuNow() - cpuX0;

  // C per feature set, chosen on the development split from one draw of `devSize` labelled examples per class.
  const cpuC0 = cpuNow();
  const devDraw = drawPerClass(poolY, cfg.devSize, new Rng(ctx.seed + 103)).flat();
  const chooseC = async (s: Pick<FeatureSet, 'pool' | 'dev'>) => {
    const scores: number[] = [];
    for (const C of cfg.cGrid) {
      scores.push(
        await svmAccuracy(
          s.pool.select(devDraw),
          devDraw.map((i) => poolY[i]),
          s.dev,
          devY,
          C,
        ),
      );
    }
    const best = scores.indexOf(Math.max(...scores));
    return { C: cfg.cGrid[best], devAccuracy: scores };
  };
  // The draws of the labelled examples: per seed, a shuffle of each class's pool, nested over sizes.
  const draws = Array.from({ length: cfg.seeds }, (_, s) => {
    const rng = new Rng(ctx.seed + 1000 + s);
    return poolPos.map((pos) => rng.permutation(pos.length).map((k) => pos[k]));
  });
  const fits = sets.length * cfg.sizes.length * cfg.seeds;
  let fitted = 0;
  const curveOf = async (s: FeatureSet): Promise<FeatureSeries> => {
    const { C, devAccuracy } = await chooseC(s);
    const acc = [];
    for (const n of cfg.sizes) {
      const perSeed = [];
      for (const draw of draws) {
        const rows = firstOf(draw, n);
        perSeed.push(
          await svmAccuracy(
            s.pool.select(rows),
            rows.map((i) => poolY[i]),
            s.test,
            testY,
            C,
          ),
        );
        ctx.progress({ phase: 'features: linear SVMs', done: ++fitted, total: fits });
      }
      acc.push(perSeed);
    }
    return { id: s.id, label: s.label, dim: s.pool.cols, C, devAccuracy, acc };
  };
  const series: FeatureSeries[] = [];
  for (const s of sets) series.push(await curveOf(s));
  const norms: FeaturesResult['norms'] = [];
  if (mobileRaw !== undefined) {
    const at = cfg.sizes.indexOf(cfg.normSize);
    for (const norm of cfg.norms) {
      const found = norm === 'l2' && at >= 0 ? series.find((s) => s.id === 'mobilenet') : undefined;
      if (found !== undefined) {
        norms.push({ norm, C: found.C as number, acc: found.acc[at] });
        continue;
      }
      const s = {
        pool: await normalized(mobileRaw.pool, norm),
        dev: await normalized(mobileRaw.dev, norm),
        test: await normalized(mobileRaw.test, norm),
      };
      const { C } = await chooseC(s);
      const acc = [];
      for (const draw of draws) {
        const rows = firstOf(draw, cfg.normSize);
        acc.push(
          await svmAccuracy(
            s.pool.select(rows),
            rows.map((i) => poolY[i]),
            s.test,
            testY,
            C,
          ),
        );
      }
      norms.push({ norm, C, acc });
    }
  }
  const cpuSvm = cpuNow() - cpuC0;

  // The from-scratch CNN: the reference architecture trained on the labelled examples only.
  const cpuS0 = cpuNow();
  const arch = referenceCnnConfig(ctx.mode).architecture;
  const xTest = imagesOf(fashion.test, testRows);
  const yTest = tf.tensor1d(testY, 'int32');
  const scratch: number[][] = [];
  try {
    let trained = 0;
    for (const [si, n] of cfg.sizes.entries()) {
      const perSeed = [];
      for (const [s, draw] of draws.entries()) {
        const rows = firstOf(draw, n).map((i) => poolRows[i]);
        const batchSize = Math.min(cfg.scratch.batchSize, rows.length);
        const epochs = Math.max(1, Math.round(cfg.scratch.steps / Math.ceil(rows.length / batchSize)));
        const model = zeilerFergusCnn({ ...arch, seed: ctx.seed + 2000 + 31 * s + si });
        const x = imagesOf(fashion.train, rows);
        const y = labelsOf(fashion.train, rows);
        try {
          await trainClassifier(model, x, y, {
            epochs,
            batchSize,
            learningRate: cfg.scratch.learningRate,
            seed: ctx.seed + 3000 + 31 * s + si,
          });
          perSeed.push((await evaluateClassifier(model, { x: xTest, labels: yTest })).accuracy);
        } finally {
          tf.dispose([x, y]);
          model.dispose();
        }
        ctx.progress({
          phase: 'features: CNNs from scratch',
          done: ++trained,
          total: cfg.sizes.length * cfg.seeds,
        });
      }
      scratch.push(perSeed);
    }
  } finally {
    tf.dispose([xTest, yTest]);
  }
  const cpuScratch = cpuNow() - cpuS0;

  const curveIds = ['pixels', `digit:${cfg.curveLayer}`, 'mobilenet'];
  return {
    mode: ctx.mode,
    backend: ctx.backend,
    config: cfg,
    classNames: [...fashion.classNames],
    counts: { pool: poolRows.length, dev: devRows.length, test: testRows.length },
    digitCnn: { mnistAccuracy: ref.test.accuracy, fromCache: ref.fromCache },
    mobilenet,
    curve: [
      ...curveIds.flatMap((id) => series.filter((s) => s.id === id)),
      { id: 'scratch', label: 'CNN from scratch', dim: null, C: null, devAccuracy: [], acc: scratch },
    ],
    depth: series.filter((s) => s.id.startsWith('digit:')),
    norms,
    cpu: {
      referenceCnn: cpuRef,
      extraction: cpuExtract,
      classifiers: cpuSvm,
      scratch: cpuScratch,
      total: cpuNow() - cpu0,
    },
    seconds: (performance.now() - start) / 1000,
  };
}
