/**
 * finetune(): transfer learning on the user's own labelled images in one call, the recipe of Keras's
 * transfer-learning guide and fastai's `fine_tune`, arranged to be fast on CPU backends:
 *
 * 1. the backbone's features (one layer, globally average-pooled) are extracted ONCE, a chunk at a time (memory-bounded,
 *    cached per chunk so a stopped run resumes), and a new softmax head is trained on them (seconds);
 * 2. optionally the top `unfreeze` stages of the backbone are fine-tuned end to end with the head, at a lower
 *    learning rate for the copied layers (discriminative rates through {@link LayerTransfer}).
 *
 * Both stages stop early on the validation loss and keep the best epoch's weights.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { confusionMatrix, perClassAccuracy } from '../classify/metrics.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { withTracked } from '../core/memory.js';
import { Rng } from '../core/rng.js';
import { stratifiedSplit } from '../data/split.js';
import { FeatureExtractor } from '../features/extractor.js';
import { modelStructure } from '../model/structure.js';
import { deriveSeed } from '../transfer/config.js';
import { LayerTransfer } from '../transfer/layer-transfer.js';
import { trainWithGroups } from '../transfer/train.js';
import { augmentImages } from './augment.js';
import { composeModel, EarlyStopping, layerOutputShape, resolveLayer, scoreProbabilities } from './head.js';
import { asImageSet, checkSet, hashKey, imageInputShape, predictSet, range, subset } from './image-sets.js';
import { resolveOptions } from './options.js';
import type { FinetuneData, FinetuneEpoch, FinetuneOptions, FinetuneResult, ImageSet } from './types.js';

const FN = 'finetune';

/**
 * Trains a classifier for the user's classes on top of a pretrained backbone. The head stage trains a softmax layer
 * on the backbone's features, extracted once (chunk by chunk, cached through `options.cache`); with
 * `options.unfreeze > 0`, the top stages of the backbone are then fine-tuned end to end together with the head
 * (the backbone stages at a tenth of the head's learning rate; BatchNormalization layers stay in inference mode).
 * Each stage stops early when the validation loss has not improved for `patience` epochs, and keeps its best
 * epoch's weights. Without `data.val`, a seeded stratified split holds out `valFraction` of each class.
 *
 * Memory: the head stage holds one chunk of images and the features (`count x featureDim` floats); the
 * fine-tuning stage holds all training images at the input size (`count x h x w x c` floats) and trains through the
 * backbone: on wasm in Node, 224x224 MobileNetV2 training aborts at batch >= 12 (4 GiB heap), so keep `batchSize`
 * small there.
 *
 * @param backbone a layers model taking `[batch, h, w, 1 | 3]` images; not modified, not disposed
 * @param data training images (+ optional validation images) with class ids, and the class names
 * @throws {@link InvalidArgumentError} / {@link ShapeMismatchError} (before any tensor is allocated) for fewer than
 * two classes, an empty set, labels out of range, a model that takes no images, a feature layer that is not there,
 * `unfreeze` beyond the backbone's stages, or bad options
 * @example
 * ```ts
 * const result = await finetune(backbone, { train: { x, labels }, classNames: ['cat', 'dog'] }, { epochs: 20 });
 * result.metrics.valAccuracy; // e.g. 0.95
 * result.model.dispose();
 * ```
 */
export async function finetune(
  backbone: tfl.LayersModel,
  data: FinetuneData,
  options: FinetuneOptions = {},
): Promise<FinetuneResult> {
  const t0 = performance.now();
  if (
    typeof backbone !== 'object' ||
    backbone === null ||
    typeof (backbone as tfl.LayersModel).getConfig !== 'function' ||
    !Array.isArray((backbone as tfl.LayersModel).inputs)
  ) {
    throw new InvalidArgumentError(FN, 'backbone', 'a tfjs-layers LayersModel', backbone);
  }
  const opts = resolveOptions(options);
  const inputShape = imageInputShape(FN, backbone);
  if (typeof data !== 'object' || data === null) {
    throw new InvalidArgumentError(FN, 'data', 'an object { train, val?, classNames }', data);
  }
  const classNames = data.classNames;
  if (!Array.isArray(classNames) || classNames.length < 2 || classNames.some((c) => typeof c !== 'string')) {
    throw new InvalidArgumentError(FN, 'data.classNames', 'at least two class names (strings)', classNames);
  }
  const k = classNames.length;
  const featureLayer = resolveLayer(backbone, options.featureLayer ?? -2);
  const featShape = layerOutputShape(featureLayer);
  if (!(featShape.length === 2 || featShape.length === 4) || featShape[featShape.length - 1] === null) {
    throw new ShapeMismatchError(
      FN,
      'options.featureLayer',
      'a layer with a [batch, features] or [batch, h, w, channels] output',
      `${featureLayer.name}: [${featShape.map((d) => d ?? 'null').join(', ')}]`,
    );
  }
  const featureDim = featShape[featShape.length - 1] as number;
  const trainLabelsAll = checkSet('data.train', data.train, k, inputShape);
  if (trainLabelsAll.length === 0) {
    throw new InvalidArgumentError(FN, 'data.train', 'at least one image', '0 images');
  }
  const valLabelsGiven = data.val !== undefined ? checkSet('data.val', data.val, k, inputShape) : undefined;
  const present = new Set(trainLabelsAll);
  if (present.size < 2) {
    throw new InvalidArgumentError(
      FN,
      'data.train.labels',
      'images of at least two classes',
      `only class ${classNames[trainLabelsAll[0]]}`,
    );
  }
  // Stages of the backbone below the feature layer = stages of the composed model minus the head's.
  const composed = composeModel(backbone, featureLayer, featShape.length === 4, k, opts.seed);
  const structure = modelStructure(composed.model);
  const backboneStages = structure.stages - 1;
  if (opts.unfreeze > backboneStages) {
    composed.dispose();
    throw new InvalidArgumentError(
      FN,
      'options.unfreeze',
      `at most the ${backboneStages} stages of the backbone below the feature layer`,
      opts.unfreeze,
    );
  }

  // The split (indices into data.train) when no validation set is given.
  const trainAll = asImageSet(data.train);
  let trainIdx: number[];
  let valSet: ImageSet;
  let valFromTrain: number[] | undefined;
  if (data.val !== undefined) {
    trainIdx = range(trainLabelsAll.length);
    valSet = asImageSet(data.val);
  } else {
    const split = stratifiedSplit(trainLabelsAll, { seed: opts.seed, testFraction: opts.valFraction });
    trainIdx = split.trainIndices.slice().sort((a, b) => a - b);
    valFromTrain = split.testIndices.slice().sort((a, b) => a - b);
    valSet = subset(trainAll, valFromTrain);
  }
  const valLabels = valLabelsGiven ?? Int32Array.from(valFromTrain ?? [], (i) => trainLabelsAll[i]);
  const trainLabels = Int32Array.from(trainIdx, (i) => trainLabelsAll[i]);

  const fx = new FeatureExtractor(backbone, {
    taps: [featureLayer.name],
    pool: featShape.length === 4 ? 'avg' : 'flatten',
    resize: 'none',
  });
  const extractBatch = fx.batchSizeFor(opts.memoryBudgetMB);
  const history: FinetuneEpoch[] = [];
  const chunks = { total: 0, cached: 0 };
  let head: tfl.LayersModel | undefined;
  let transfer: LayerTransfer | undefined;
  let headStop: EarlyStopping | undefined;
  try {
    // The run's tensors are freed stage by stage and when it ends, by returning or throwing.
    return await withTracked(async (track, release) => {
      // --- Features, once (a chunk at a time, cached).
      const tExtract = performance.now();
      const variants = opts.augment ? opts.augment.copies : 0;
      const extractTotal = trainAll.count * (1 + variants) + (data.val !== undefined ? valSet.count : 0);
      let extracted = 0;
      const featuresOf = async (set: ImageSet, variant: number): Promise<Float32Array> => {
        const out = new Float32Array(set.count * featureDim);
        for (let start = 0, c = 0; start < set.count; start += opts.chunkSize, c++) {
          const idx = range(Math.min(opts.chunkSize, set.count - start)).map((i) => start + i);
          const key =
            options.cache && set.ids
              ? hashKey(
                  [
                    options.cacheKey,
                    featureLayer.name,
                    inputShape.join('x'),
                    variant > 0 ? `aug${variant}:${opts.seed}:${JSON.stringify(opts.augment)}:${c}` : 'plain',
                    ...idx.map((i) => (set.ids as readonly string[])[i]),
                  ].join('\n'),
                )
              : undefined;
          chunks.total++;
          let m = key !== undefined ? await options.cache?.get(key) : undefined;
          if (m !== undefined && m.rows === idx.length && m.cols === featureDim) {
            chunks.cached++;
          } else {
            const x = await set.load(idx);
            let view: tf.Tensor4D = x;
            try {
              if (variant > 0 && opts.augment) {
                const rng = new Rng(deriveSeed(opts.seed, `augment:${variant}:${c}`));
                view = augmentImages(x, rng, opts.augment);
              }
              [m] = await fx.extractAll(view, { batchSize: extractBatch });
            } finally {
              if (view !== x) view.dispose();
              x.dispose();
            }
            if (key !== undefined) await options.cache?.set(key, m);
          }
          out.set(m.data, start * featureDim);
          extracted += idx.length;
          options.onProgress?.({ phase: 'extract', done: extracted, total: extractTotal });
        }
        return out;
      };
      const allFeats = await featuresOf(trainAll, 0);
      const augFeats: Float32Array[] = [];
      for (let v = 1; v <= variants; v++) augFeats.push(await featuresOf(trainAll, v));
      const valFeats =
        data.val !== undefined
          ? await featuresOf(valSet, 0)
          : Float32Array.from(
              (valFromTrain ?? []).flatMap((i) =>
                Array.from(allFeats.subarray(i * featureDim, (i + 1) * featureDim)),
              ),
            );
      const extractSeconds = (performance.now() - tExtract) / 1000;

      // --- Head on the features.
      const tHead = performance.now();
      const rows = trainIdx.length * (1 + variants);
      const headX = new Float32Array(rows * featureDim);
      const headY = new Int32Array(rows);
      [allFeats, ...augFeats].forEach((f, v) => {
        trainIdx.forEach((i, r) => {
          const at = v * trainIdx.length + r;
          headX.set(f.subarray(i * featureDim, (i + 1) * featureDim), at * featureDim);
          headY[at] = trainLabelsAll[i];
        });
      });
      const xHead = tf.tensor2d(headX, [rows, featureDim]);
      track(xHead);
      const xVal = tf.tensor2d(valFeats, [valLabels.length, featureDim]);
      track(xVal);
      head = tfl.sequential({
        layers: [
          tfl.layers.dense({
            inputShape: [featureDim],
            units: k,
            activation: 'softmax',
            kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(opts.seed, 'head') }),
          }),
        ],
      });
      const headModel = head;
      const valProbsOfHead = async (): Promise<Float32Array> => {
        if (valLabels.length === 0) return new Float32Array(0);
        const p = tf.tidy(() => headModel.predict(xVal) as tf.Tensor);
        const v = (await p.data()) as Float32Array;
        p.dispose();
        return v;
      };
      headStop = new EarlyStopping(head, opts.patience);
      const stopHead = headStop;
      let tEpoch = performance.now();
      /** One epoch's record: into the history, to `onEpoch`, and the clock restarted for the next epoch. */
      const recordEpoch = (
        stage: FinetuneEpoch['stage'],
        epoch: number,
        epochs: number,
        loss: number,
        s: { loss: number; accuracy: number },
      ) => {
        const rec: FinetuneEpoch = {
          stage,
          epoch,
          epochs,
          loss,
          valLoss: s.loss,
          valAccuracy: s.accuracy,
          seconds: (performance.now() - tEpoch) / 1000,
        };
        history.push(rec);
        options.onEpoch?.(rec);
        tEpoch = performance.now();
      };
      let headEpochs = 0;
      await trainWithGroups(
        head,
        { x: xHead, labels: headY },
        {
          epochs: opts.epochs,
          batchSize: opts.batchSize,
          learningRate: opts.learningRate,
          optimizer: opts.optimizer,
          seed: deriveSeed(opts.seed, 'head-shuffle'),
          onProgress: (e) => options.onProgress?.({ ...e, phase: 'head' }),
          onEpochEnd: async (epoch, loss) => {
            const s = scoreProbabilities(await valProbsOfHead(), valLabels, k);
            headEpochs = epoch;
            recordEpoch('head', epoch, opts.epochs, loss, s);
            return stopHead.update(epoch, s.loss);
          },
        },
      );
      headStop.restore();
      const headScore = scoreProbabilities(await valProbsOfHead(), valLabels, k);
      release();
      const headSeconds = (performance.now() - tHead) / 1000;

      // --- The full model: backbone (copied) + pooling + the trained head.
      transfer = new LayerTransfer(composed.model, {
        copy: backboneStages,
        head: { kind: 'keep' },
        seed: opts.seed,
      });
      const target = transfer.model;
      target.layers[target.layers.length - 1].setWeights(head.layers[0].getWeights());
      head.dispose();
      head = undefined;

      let finalProbs: Float32Array | undefined;
      const tFine = performance.now();
      let ftEpochs = 0;
      let ftBest = 0;
      if (opts.unfreeze > 0) {
        transfer.freeze(backboneStages - opts.unfreeze);
        const xTrain = await trainAll.load(trainIdx);
        track(xTrain);
        const augment = opts.augment;
        const augRng = new Rng(deriveSeed(opts.seed, 'finetune-augment'));
        const stop = new EarlyStopping(target, opts.patience);
        // The head stage's result is the baseline the fine-tuning has to beat.
        stop.update(0, headScore.loss);
        tEpoch = performance.now();
        const t = transfer;
        try {
          await t.fineTune(
            { x: xTrain, labels: trainLabels },
            {
              epochs: opts.fineTuneEpochs,
              batchSize: opts.batchSize,
              learningRate: opts.fineTuneLearningRate,
              copiedLearningRate: opts.fineTuneLearningRate / 10,
              optimizer: opts.optimizer,
              seed: deriveSeed(opts.seed, 'finetune-shuffle'),
              transformBatch: augment
                ? (xb) => augmentImages(xb as tf.Tensor4D, augRng, { ...augment, copies: 1 })
                : undefined,
              onProgress: (e) => options.onProgress?.({ ...e, phase: 'finetune' }),
              onEpochEnd: async (epoch, loss) => {
                const probs = await predictSet(target, valSet, opts.chunkSize, extractBatch);
                const s = scoreProbabilities(probs, valLabels, k);
                ftEpochs = epoch;
                recordEpoch('finetune', epoch, opts.fineTuneEpochs, loss, s);
                return stop.update(epoch, s.loss);
              },
            },
          );
          ftBest = stop.bestEpoch;
          stop.restore();
        } finally {
          stop.dispose();
        }
        release();
        finalProbs = await predictSet(target, valSet, opts.chunkSize, extractBatch);
      }
      transfer.unfreeze();
      const finetuneSeconds = (performance.now() - tFine) / 1000;
      const final = finalProbs ? scoreProbabilities(finalProbs, valLabels, k) : headScore;
      const result: FinetuneResult = {
        model: target,
        classNames: [...classNames],
        history,
        metrics: {
          valAccuracy: final.accuracy,
          headValAccuracy: headScore.accuracy,
          valLoss: final.loss,
          perClassAccuracy: valLabels.length > 0 ? perClassAccuracy(valLabels, final.predicted, k) : [],
          confusion:
            valLabels.length > 0
              ? confusionMatrix(valLabels, final.predicted, k)
              : classNames.map(() => classNames.map(() => 0)),
          counts: { train: trainIdx.length, val: valLabels.length },
          featureDim,
          featureLayer: featureLayer.name,
          inputShape,
          unfreeze: opts.unfreeze,
          seconds: {
            extract: extractSeconds,
            head: headSeconds,
            finetune: finetuneSeconds,
            total: (performance.now() - t0) / 1000,
          },
          chunks,
          epochs: {
            head: headEpochs,
            headBest: stopHead.bestEpoch,
            finetune: ftEpochs,
            finetuneBest: ftBest,
          },
        },
        val: {
          indices: valFromTrain ?? range(valLabels.length),
          labels: Array.from(valLabels),
          predicted: final.predicted,
          confidence: final.confidence,
        },
      };
      if (valFromTrain) result.split = { trainIndices: trainIdx, valIndices: valFromTrain };
      transfer = undefined; // owned by the result now
      return result;
    });
  } finally {
    headStop?.dispose();
    head?.dispose();
    transfer?.dispose();
    fx.dispose();
    composed.dispose();
  }
}
