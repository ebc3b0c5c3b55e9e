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
import {
  checkInRange,
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  isTensor,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { withTracked } from '../core/memory.js';
import { Rng } from '../core/rng.js';
import { stratifiedSplit } from '../data/split.js';
import { FeatureExtractor } from '../features/extractor.js';
import { modelStructure } from '../model/structure.js';
import { deriveSeed } from '../transfer/config.js';
import { OPTIMIZER_KINDS } from '../transfer/grouped-optimizer.js';
import { LayerTransfer } from '../transfer/layer-transfer.js';
import { trainWithGroups } from '../transfer/train.js';
import { augmentImages, type ResolvedAugment, resolveFinetuneAugment } from './augment.js';
import type {
  FinetuneData,
  FinetuneEpoch,
  FinetuneOptions,
  FinetuneResult,
  ImageSet,
  ImageTensorSet,
} from './types.js';

const FN = 'finetune';

type Layer = tfl.LayersModel['layers'][number];

function isImageSet(v: unknown): v is ImageSet {
  return typeof v === 'object' && v !== null && typeof (v as ImageSet).load === 'function';
}

/** The backbone's image input `[height, width, channels]`, or a typed error when it takes no images. */
export function imageInputShape(fn: string, model: tfl.LayersModel): [number, number, number] {
  const shape = model.inputs.length === 1 ? model.inputs[0].shape : undefined;
  if (
    shape === undefined ||
    shape.length !== 4 ||
    shape.slice(1).some((d) => d === null) ||
    (shape[3] !== 1 && shape[3] !== 3)
  ) {
    throw new ShapeMismatchError(
      fn,
      'model',
      'a model with one image input [batch, height, width, 1 or 3] of fixed size',
      shape === undefined
        ? `${model.inputs.length} inputs`
        : `input shape [${shape.map((d) => d ?? 'null').join(', ')}]`,
    );
  }
  return [shape[1] as number, shape[2] as number, shape[3] as number];
}

function resolveLayer(model: tfl.LayersModel, ref: string | number): Layer {
  if (typeof ref === 'number') {
    checkInteger(FN, 'options.featureLayer', ref, -model.layers.length, model.layers.length - 1);
    return model.layers[ref < 0 ? model.layers.length + ref : ref];
  }
  if (typeof ref !== 'string') {
    throw new InvalidArgumentError(FN, 'options.featureLayer', 'a layer name or index', ref);
  }
  const layer = model.layers.find((l) => l.name === ref);
  if (layer === undefined) {
    throw new InvalidArgumentError(
      FN,
      'options.featureLayer',
      `the name of a top-level layer of the model (${model.layers.map((l) => l.name).join(', ')})`,
      ref,
    );
  }
  return layer;
}

function layerOutputShape(layer: Layer): (number | null)[] {
  const s = layer.outputShape as (number | null)[] | (number | null)[][];
  return (Array.isArray(s[0]) ? s[0] : s) as (number | null)[];
}

/** Checks one set of images (labels in range, tensor shape) before anything is allocated. Returns its labels. */
function checkSet(
  argument: string,
  set: unknown,
  numClasses: number,
  inputShape: [number, number, number],
): Int32Array {
  if (typeof set !== 'object' || set === null) {
    throw new InvalidArgumentError(
      FN,
      argument,
      'an image set { count, labels, load } or { x, labels }',
      set,
    );
  }
  let count: number;
  if (isImageSet(set)) {
    count = set.count;
    checkInteger(FN, `${argument}.count`, count, 0);
    if (set.ids !== undefined && set.ids.length !== count) {
      throw new InvalidArgumentError(FN, `${argument}.ids`, `${count} ids`, `${set.ids.length} ids`);
    }
  } else {
    const x = (set as ImageTensorSet).x;
    if (!isTensor(x) || x.isDisposed) {
      throw new InvalidArgumentError(
        FN,
        `${argument}.x`,
        'a live tensor [count, height, width, channels]',
        x,
      );
    }
    if (
      x.rank !== 4 ||
      x.shape[1] !== inputShape[0] ||
      x.shape[2] !== inputShape[1] ||
      x.shape[3] !== inputShape[2]
    ) {
      throw new ShapeMismatchError(
        FN,
        `${argument}.x`,
        `images of the model's input shape [count, ${inputShape.join(', ')}]`,
        x.shape,
      );
    }
    count = x.shape[0];
  }
  const labels = (set as { labels?: ArrayLike<number> }).labels;
  if (labels === null || typeof labels !== 'object' || labels.length !== count) {
    throw new InvalidArgumentError(FN, `${argument}.labels`, `${count} class ids`, labels);
  }
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new InvalidArgumentError(FN, `${argument}.labels[${i}]`, `a class id in [0, ${numClasses})`, l);
    }
    out[i] = l;
  }
  return out;
}

/** A view of `set` restricted to `indices` (in that order). */
function subset(set: ImageSet, indices: readonly number[]): ImageSet {
  return {
    count: indices.length,
    labels: indices.map((i) => set.labels[i]),
    ids: set.ids ? indices.map((i) => (set.ids as readonly string[])[i]) : undefined,
    load: (idx) => set.load(idx.map((i) => indices[i])),
  };
}

function asImageSet(set: ImageSet | ImageTensorSet): ImageSet {
  if (isImageSet(set)) return set;
  const { x, labels } = set;
  return {
    count: x.shape[0],
    labels,
    load: async (idx) => tf.tidy(() => tf.gather(x, tf.tensor1d(Int32Array.from(idx), 'int32'))),
  };
}

/** FNV-1a over a string, twice with different offsets: 16 hex digits. */
function hashKey(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
    b = (b ^ (b >>> 15)) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Cross-entropy and accuracy of probabilities `[n, k]` against labels. */
function scoreProbabilities(
  probs: Float32Array,
  labels: ArrayLike<number>,
  k: number,
): { loss: number; accuracy: number; predicted: number[]; confidence: number[] } {
  const n = labels.length;
  const predicted: number[] = [];
  const confidence: number[] = [];
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (probs[i * k + j] > probs[i * k + best]) best = j;
    predicted.push(best);
    confidence.push(probs[i * k + best]);
    if (best === labels[i]) correct++;
    loss -= Math.log(Math.max(probs[i * k + labels[i]], 1e-7));
  }
  return {
    loss: n > 0 ? loss / n : Number.NaN,
    accuracy: n > 0 ? correct / n : Number.NaN,
    predicted,
    confidence,
  };
}

/** Class probabilities of `model` on every image of `set`, a chunk at a time. */
async function predictSet(
  model: tfl.LayersModel,
  set: ImageSet,
  chunkSize: number,
  batchSize: number,
): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (let start = 0; start < set.count; start += chunkSize) {
    const x = await set.load(range(Math.min(chunkSize, set.count - start)).map((i) => start + i));
    try {
      for (let b = 0; b < x.shape[0]; b += batchSize) {
        const p = tf.tidy(
          () => model.predict(tf.slice(x, b, Math.min(batchSize, x.shape[0] - b))) as tf.Tensor,
        );
        const v = await p.data();
        p.dispose();
        parts.push(v as Float32Array);
      }
    } finally {
      x.dispose();
    }
  }
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Weights of `model`, copied (to restore the best epoch). */
function snapshot(model: tfl.LayersModel): tf.Tensor[] {
  return model.getWeights().map((w) => tf.clone(w));
}

interface Resolved {
  valFraction: number;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: (typeof OPTIMIZER_KINDS)[number];
  unfreeze: number;
  fineTuneEpochs: number;
  fineTuneLearningRate: number;
  patience: number;
  augment: ResolvedAugment | undefined;
  chunkSize: number;
  memoryBudgetMB: number;
}

function resolveOptions(options: FinetuneOptions): Resolved {
  const o = checkOptions(FN, 'options', options);
  checkOptionKeys(
    FN,
    'options',
    o,
    knownKeys<FinetuneOptions>({
      featureLayer: true,
      valFraction: true,
      seed: true,
      epochs: true,
      batchSize: true,
      learningRate: true,
      optimizer: true,
      unfreeze: true,
      fineTuneEpochs: true,
      fineTuneLearningRate: true,
      patience: true,
      augment: true,
      chunkSize: true,
      memoryBudgetMB: true,
      cache: true,
      cacheKey: true,
      onProgress: true,
      onEpoch: true,
    }),
  );
  const r: Resolved = {
    valFraction: o.valFraction ?? 0.2,
    seed: o.seed ?? 0,
    epochs: o.epochs ?? 30,
    batchSize: o.batchSize ?? 32,
    learningRate: o.learningRate ?? 3e-3,
    optimizer: o.optimizer ?? 'adam',
    unfreeze: o.unfreeze ?? 0,
    fineTuneEpochs: o.fineTuneEpochs ?? 5,
    fineTuneLearningRate: o.fineTuneLearningRate ?? 3e-4,
    patience: o.patience ?? 4,
    augment: resolveFinetuneAugment(FN, o.augment),
    chunkSize: o.chunkSize ?? 256,
    memoryBudgetMB: o.memoryBudgetMB ?? 64,
  };
  checkInRange(FN, 'options.valFraction', r.valFraction, 0, 1, { hi: true });
  checkInteger(FN, 'options.seed', r.seed);
  checkInteger(FN, 'options.epochs', r.epochs, 1);
  checkInteger(FN, 'options.batchSize', r.batchSize, 1);
  checkPositive(FN, 'options.learningRate', r.learningRate);
  checkOneOf(FN, 'options.optimizer', r.optimizer, OPTIMIZER_KINDS);
  checkInteger(FN, 'options.unfreeze', r.unfreeze, 0);
  checkInteger(FN, 'options.fineTuneEpochs', r.fineTuneEpochs, 1);
  checkPositive(FN, 'options.fineTuneLearningRate', r.fineTuneLearningRate);
  checkInteger(FN, 'options.patience', r.patience, 1);
  checkInteger(FN, 'options.chunkSize', r.chunkSize, 1);
  checkPositive(FN, 'options.memoryBudgetMB', r.memoryBudgetMB);
  if (o.cache !== undefined) {
    if (typeof o.cache?.get !== 'function' || typeof o.cache?.set !== 'function') {
      throw new InvalidArgumentError(FN, 'options.cache', 'a FeatureCache { get, set }', o.cache);
    }
    if (typeof o.cacheKey !== 'string' || o.cacheKey.length === 0) {
      throw new InvalidArgumentError(
        FN,
        'options.cacheKey',
        'a non-empty string with options.cache',
        o.cacheKey,
      );
    }
  }
  return r;
}

/** Tracks the best epoch of a stage (lowest validation loss) and says when to stop. */
class EarlyStopping {
  best = Number.POSITIVE_INFINITY;
  bestEpoch = 0;
  private weights: tf.Tensor[] = [];
  constructor(
    private readonly model: tfl.LayersModel,
    private readonly patience: number,
  ) {}
  /** Records an epoch; `true` when the stage should stop. */
  update(epoch: number, valLoss: number): boolean {
    if (Number.isNaN(valLoss)) return false;
    if (valLoss < this.best - 1e-6) {
      this.best = valLoss;
      this.bestEpoch = epoch;
      tf.dispose(this.weights);
      this.weights = snapshot(this.model);
      return false;
    }
    return epoch - this.bestEpoch >= this.patience;
  }
  /** Puts the best epoch's weights back (when there was one) and frees the copy. */
  restore(): void {
    if (this.weights.length > 0) this.model.setWeights(this.weights);
    this.dispose();
  }
  dispose(): void {
    tf.dispose(this.weights);
    this.weights = [];
  }
}

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

/**
 * The backbone up to `layer`, then global average pooling (for a 4-D output) and a softmax Dense head of `k` units,
 * as one functional model sharing the backbone's layers. `dispose()` frees only the layers it added.
 */
function composeModel(
  backbone: tfl.LayersModel,
  layer: Layer,
  pool: boolean,
  k: number,
  seed: number,
): { model: tfl.LayersModel; dispose: () => void } {
  const taken = new Set(backbone.layers.map((l) => l.name));
  const unique = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    return name;
  };
  const out = layer.output as tfl.SymbolicTensor;
  const pooled = pool
    ? (tfl.layers.globalAveragePooling2d({ name: unique('finetune_pool') }).apply(out) as tfl.SymbolicTensor)
    : out;
  const dense = tfl.layers.dense({
    units: k,
    activation: 'softmax',
    name: unique('finetune_head'),
    kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(seed, 'head') }),
  });
  const y = dense.apply(pooled) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: backbone.inputs, outputs: y, name: unique('finetuned') });
  return {
    model,
    dispose: () => {
      if (!dense.weights.some((w) => w.read().isDisposed)) dense.dispose();
    },
  };
}
