/**
 * The patches section's run: Oquab et al. (2014)'s multi-scale patches on synthetic multi-digit scenes.
 *
 * The run's reference CNN, trained on isolated MNIST digits (object-centred "source" images), is the source. Two
 * targets are trained on cluttered scenes with several digits, both `LayerTransfer` copies of it with Oquab's
 * adaptation block (FCa, FCb) on the frozen copied layers: one on whole scenes (resized to the CNN's 28x28 input,
 * multi-hot soft targets), one on labelled patches (Oquab's rule, 10 digits + background, background sub-sampled 1:1
 * and re-drawn every epoch). Both are kept in the report's model cache and evaluated as multi-label classifiers on
 * held-out scenes made of held-out digits: per-class AP and mAP, the patch model's image scores from the power mean
 * (k = 5), the max and the mean of its patch scores, and the paired bootstrap interval over test scenes.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  aggregatePatchScores,
  averagePrecision,
  generateScenes,
  LayerTransfer,
  PatchDataset,
  type PatchGrid,
  PatchSampler,
  predictPatches,
  Rng,
  type Scene,
  scenesToTensor,
} from '../../../index.js';
import { seedDropoutMasks } from '../../../internal.js';
import { cachedModel, sharedMnist, sharedReferenceCnn } from '../../shared.js';
import type { ReportContext } from '../../types.js';
import {
  type PatchesConfig,
  type PatchesResult,
  type PatchSample,
  patchesConfig,
  type ScoredMethod,
} from './config.js';
import { sampleFigures } from './figures.js';
import { pairedMapIntervals } from './intervals.js';

const NUM_CLASSES = 10;
const CROP: [number, number] = [28, 28];

function scoreMethod(name: string, scores: ArrayLike<number>, truth: boolean[][]): ScoredMethod {
  const n = truth.length;
  const ap: number[] = [];
  for (let c = 0; c < NUM_CLASSES; c++) {
    const s = new Float32Array(n);
    const p: boolean[] = [];
    for (let i = 0; i < n; i++) {
      s[i] = scores[i * NUM_CLASSES + c];
      p.push(truth[i][c]);
    }
    ap.push(averagePrecision(s, p));
  }
  const defined = ap.filter((a) => Number.isFinite(a));
  return { name, ap, map: defined.reduce((a, b) => a + b, 0) / Math.max(1, defined.length) };
}

/** Rows of `[N, 10]` scores as arrays (for the bootstrap). */
function rowsOf(scores: ArrayLike<number>, n: number): number[][] {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: NUM_CLASSES }, (_, c) => scores[i * NUM_CLASSES + c]),
  );
}

/** Scenes `[N, H, W, 1]` to the CNN's input: 3x3 box blur (against aliasing) then bilinear resize to 28x28. */
function toNetworkInput(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.image.resizeBilinear(tf.avgPool(images, 3, 1, 'same'), CROP, false, true));
}

function softmaxCrossEntropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.losses.softmaxCrossEntropy(yTrue, yPred);
}

/**
 * Trains a frozen `LayerTransfer` copy of the digit CNN's body with Oquab's adaptation block (FCa -> dropout -> FCb)
 * as its head, one batch at a time from `batches`; returns the model and the mean loss per epoch. The dropout masks
 * come from `seed` (step k draws the same mask in every run), so the section is identical run to run.
 */
async function trainAdapted(
  cnn: tfl.LayersModel,
  cfg: PatchesConfig,
  numClasses: number,
  seed: number,
  epochs: number,
  batches: (epoch: number) => AsyncIterable<{ x: tf.Tensor; y: tf.Tensor; n: number }>,
  onStep: () => void,
): Promise<{ model: tfl.LayersModel; meta: { loss: number[]; steps: number } }> {
  const t = new LayerTransfer(cnn, {
    head: { kind: 'adaptation', numClasses, hiddenUnits: cfg.hiddenUnits, dropout: cfg.dropout },
    seed,
  });
  const optimizer = tf.train.adam(cfg.learningRate);
  // trainOnBatch is tfjs's loop, not transferkit's: seed the adaptation block's dropout masks here.
  const unseedDropout = seedDropoutMasks(t.model, seed);
  try {
    t.freeze();
    t.model.compile({ optimizer, loss: softmaxCrossEntropy });
    const loss: number[] = [];
    let steps = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      let sum = 0;
      let n = 0;
      for await (const b of batches(epoch)) {
        try {
          sum += ((await t.model.trainOnBatch(b.x, b.y)) as number) * b.n;
          n += b.n;
        } finally {
          tf.dispose([b.x, b.y]);
        }
        steps++;
        onStep();
      }
      loss.push(sum / n);
    }
    // The model outlives the transfer object (LayerTransfer.dispose only disposes it); the caller owns it.
    return { model: t.model, meta: { loss, steps } };
  } catch (e) {
    t.dispose();
    throw e;
  } finally {
    unseedDropout();
    // Disposing the model does not free its optimizer's slots (Adam's moments).
    optimizer.dispose();
  }
}

async function scorePatches(
  model: tfl.LayersModel,
  images: tf.Tensor4D,
  grid: PatchGrid,
  cfg: PatchesConfig,
  ctx: ReportContext,
  phase: string,
): Promise<tf.Tensor3D> {
  return predictPatches(model, images, grid, CROP, {
    activation: 'softmax',
    batchSize: cfg.predictBatch,
    onProgress: (e) => ctx.progress({ ...e, phase }),
  });
}

/**
 * Runs the section.
 *
 * @example
 * ```ts
 * const result = await runPatches(ctx);
 * ```
 */
export async function runPatches(ctx: ReportContext, config?: PatchesConfig): Promise<PatchesResult> {
  const t0 = performance.now();
  const cfg = config ?? patchesConfig(ctx.mode);
  const canvas = cfg.canvas;
  const split = await sharedMnist(ctx);
  // The run's reference CNN (owned by the runner, shared with other sections): the "source" network.
  const reference = await sharedReferenceCnn(ctx);
  const cnn = reference.model;

  const sceneOpts = {
    canvasSize: canvas,
    minScale: cfg.minScale,
    maxScale: cfg.maxScale,
    minObjects: cfg.minObjects,
    maxObjects: cfg.maxObjects,
  } as const;
  const train: Scene[] = generateScenes(split.train, {
    ...sceneOpts,
    count: cfg.trainScenes,
    seed: ctx.seed + 1,
  });
  const test: Scene[] = generateScenes(split.test, {
    ...sceneOpts,
    count: cfg.testScenes,
    seed: ctx.seed + 2,
  });
  const trainX = scenesToTensor(train);
  const testX = scenesToTensor(test);
  const sampler = new PatchSampler({ scales: cfg.scales, smallest: cfg.smallest, overlap: cfg.overlap });
  const grid = sampler.grid({ height: canvas, width: canvas });
  const models: tfl.LayersModel[] = [];
  try {
    // Patch model: adaptation layers trained on labelled patches (10 digits + background).
    const data = new PatchDataset(
      trainX,
      train.map((s) => s.objects),
      sampler,
      {
        numClasses: NUM_CLASSES,
        cropSize: CROP,
        batchSize: cfg.patchBatch,
        backgroundRatio: cfg.backgroundRatio,
        multiObject: 'drop',
        seed: ctx.seed,
      },
    );
    const sel = data.selection(0);
    const key = { cfg, seed: ctx.seed, source: reference.config };
    const stepsPerEpoch = Math.ceil(sel.image.length / cfg.patchBatch);
    let done = 0;
    const patch = await cachedModel(ctx, 'patches-patch-model', key, () =>
      trainAdapted(
        cnn,
        cfg,
        NUM_CLASSES + 1,
        ctx.seed,
        cfg.patchEpochs,
        async function* (epoch) {
          for await (const b of data.batches(epoch)) yield { x: b.x, y: b.y, n: b.image.length };
        },
        () =>
          ctx.progress({
            phase: 'patches: patch model',
            done: ++done,
            total: stepsPerEpoch * cfg.patchEpochs,
          }),
      ),
    );
    models.push(patch.model);

    // Whole-image model: the same adaptation on whole scenes, multi-hot soft targets.
    const whole = await cachedModel(ctx, 'patches-whole-model', key, async () => {
      const wholeX = toNetworkInput(trainX);
      const targets = new Float32Array(train.length * NUM_CLASSES);
      train.forEach((s, i) => {
        const present = [...new Set(s.objects.map((o) => o.label))];
        for (const c of present) targets[i * NUM_CLASSES + c] = 1 / present.length;
      });
      const wholeY = tf.tensor2d(targets, [train.length, NUM_CLASSES]);
      const rng = new Rng(ctx.seed + 3);
      let epochsDone = 0;
      try {
        return await trainAdapted(
          cnn,
          cfg,
          NUM_CLASSES,
          ctx.seed,
          cfg.wholeEpochs,
          async function* () {
            const order = rng.permutation(train.length);
            for (let s = 0; s < order.length; s += cfg.wholeBatch) {
              const idx = tf.tensor1d(order.slice(s, s + cfg.wholeBatch), 'int32');
              try {
                yield { x: tf.gather(wholeX, idx), y: tf.gather(wholeY, idx), n: idx.shape[0] };
              } finally {
                idx.dispose();
              }
            }
            ctx.progress({ phase: 'patches: whole-image model', done: ++epochsDone, total: cfg.wholeEpochs });
          },
          () => {},
        );
      } finally {
        tf.dispose([wholeX, wholeY]);
      }
    });
    models.push(whole.model);

    // Evaluation on held-out scenes.
    const truth = test.map((s) => {
      const t = new Array<boolean>(NUM_CLASSES).fill(false);
      for (const o of s.objects) t[o.label] = true;
      return t;
    });
    const methods: ScoredMethod[] = [];
    const testIn = toNetworkInput(testX);
    const wholeScores = tf.tidy(() => tf.softmax(whole.model.predict(testIn) as tf.Tensor2D));
    const wholeData = await wholeScores.data();
    tf.dispose([testIn, wholeScores]);
    methods.push(scoreMethod('whole image (adaptation on resized scenes)', wholeData, truth));

    const patchScores = await scorePatches(
      patch.model,
      testX,
      grid,
      cfg,
      ctx,
      'patches: scoring test patches',
    );
    const digitScores = tf.tidy(() => tf.slice(patchScores, [0, 0, 0], [-1, -1, NUM_CLASSES]) as tf.Tensor3D);
    patchScores.dispose();
    let powerData: ArrayLike<number> = [];
    let samples: PatchSample[];
    try {
      for (const method of ['power', 'max', 'mean'] as const) {
        const agg = aggregatePatchScores(digitScores, { method, power: cfg.power });
        const values = await agg.data();
        agg.dispose();
        if (method === 'power') powerData = values;
        const label =
          method === 'power' ? `patches, power mean k = ${cfg.power} (Oquab)` : `patches, ${method}`;
        methods.push(scoreMethod(label, values, truth));
      }
      // Ablation: the digit CNN as is (no background class, no adaptation) on the same patches.
      const rawScores = await scorePatches(cnn, testX, grid, cfg, ctx, 'patches: digit CNN on patches');
      const rawAgg = aggregatePatchScores(rawScores, { method: 'power', power: cfg.power });
      methods.push(scoreMethod('digit CNN as is on patches, power mean', await rawAgg.data(), truth));
      tf.dispose([rawScores, rawAgg]);
      samples = await sampleFigures(test, digitScores, powerData, grid, sampler, canvas);
    } finally {
      digitScores.dispose();
    }
    const intervals = pairedMapIntervals(
      rowsOf(powerData, test.length),
      rowsOf(wholeData, test.length),
      truth,
      cfg.bootstrap,
    );

    const positives = data.labels.reduce((a, l) => a + l.positives, 0);
    const background = data.labels.reduce((a, l) => a + l.background, 0);
    const dropped = data.labels.reduce((a, l) => a + l.dropped, 0);
    return {
      mode: ctx.mode,
      seconds: (performance.now() - t0) / 1000,
      canvas,
      trainScenes: train.length,
      testScenes: test.length,
      grid: {
        patches: grid.count,
        sizes: grid.scales.map((s) => s.size),
        minOverlap: grid.minOverlap,
        coverage: grid.coverage,
        density: grid.density,
      },
      labels: { positives, background, dropped, backgroundKeptPerEpoch: sel.background },
      source: {
        digits: split.train.size,
        epochs: reference.config.epochs,
        testAccuracy: reference.test.accuracy,
      },
      training: {
        patchEpochs: cfg.patchEpochs,
        patchSteps: patch.meta.steps,
        wholeEpochs: cfg.wholeEpochs,
        wholeSteps: whole.meta.steps,
        patchLoss: patch.meta.loss,
        wholeLoss: whole.meta.loss,
      },
      methods,
      chanceMap:
        truth[0].map((_, c) => truth.filter((t) => t[c]).length / truth.length).reduce((a, b) => a + b, 0) /
        NUM_CLASSES,
      samples,
      usedLayerTransfer: true,
      apSource: 'averagePrecision of transferkit (non-interpolated, tied scores as one threshold)',
      config: cfg,
      intervals,
      fromCache: patch.fromCache && whole.fromCache,
    };
  } finally {
    for (const m of models) m.dispose();
    tf.dispose([trainX, testX]);
  }
}
