/**
 * Types of {@link finetune}: where the images come from, the options, the per-epoch records and the result.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ProgressCallback } from '../core/types.js';
import type { FeatureMatrix } from '../features/matrix.js';
import type { OptimizerKind } from '../transfer/grouped-optimizer.js';

/**
 * A labelled set of images read lazily, a chunk at a time (so a folder of thousands of 224x224 images never has to
 * sit in memory at once). `transferkit/node`'s `finetuneFolder` makes one from an image folder.
 *
 * @example
 * ```ts
 * const set: ImageSet = { count: 2, labels: [0, 1], load: async (idx) => tf.zeros([idx.length, 32, 32, 3]) };
 * ```
 */
export interface ImageSet {
  /** Number of images. */
  readonly count: number;
  /** Class id of each image, in `[0, classNames.length)`. */
  readonly labels: ArrayLike<number>;
  /**
   * Identity of each image (e.g. path, size and modification time), used as the feature-cache key; without it the
   * set's features are not cached.
   * @default undefined
   */
  readonly ids?: readonly string[];
  /** Reads the images at `indices` as `[indices.length, height, width, channels]` float32 in [0, 1] at the
   * backbone's input size. The caller (finetune) disposes the result. */
  load(indices: readonly number[]): Promise<tf.Tensor4D>;
}

/** Images in memory: an NHWC batch at the backbone's input size and one label per image. Never disposed by finetune. */
export interface ImageTensorSet {
  /** `[count, height, width, channels]` float32 pixels. */
  readonly x: tf.Tensor4D;
  /** Class id of each image. */
  readonly labels: ArrayLike<number>;
}

/** What {@link finetune} trains on. */
export interface FinetuneData {
  /** The training images. */
  train: ImageSet | ImageTensorSet;
  /**
   * Validation images (early stopping, metrics). Without them, a seeded stratified split of `train` holds out
   * `valFraction` of each class.
   * @default undefined
   */
  val?: ImageSet | ImageTensorSet;
  /** Name of each class: class id `i` is `classNames[i]` (at least two). */
  classNames: readonly string[];
}

/**
 * A store of extracted features, one entry per chunk of images, so a run that stops half-way resumes where it was.
 * `transferkit/node`'s `finetuneFolder` keeps them as TKFEATS1 files.
 *
 * @example
 * ```ts
 * const mem = new Map<string, FeatureMatrix>();
 * const cache: FeatureCache = { get: async (k) => mem.get(k), set: async (k, m) => void mem.set(k, m) };
 * ```
 */
export interface FeatureCache {
  /** The features stored under `key`, or `undefined`. */
  get(key: string): Promise<FeatureMatrix | undefined>;
  /** Stores the features of one chunk under `key`. */
  set(key: string, features: FeatureMatrix): Promise<void>;
}

/** Training-time augmentation: random horizontal flips and random crops (resized back to the input size). */
export interface FinetuneAugment {
  /** Flip each image left-right with probability 1/2. @default true */
  flip?: boolean;
  /** Smallest side of a random crop, as a fraction of the image side, in (0, 1]; 1 disables cropping. @default 0.8 */
  minCrop?: number;
  /** Augmented copies of each training image whose features the head trains on (head stage). @default 2 */
  copies?: number;
}

/** Options of {@link finetune}. */
export interface FinetuneOptions {
  /**
   * The backbone layer whose output the new head reads (a top-level layer: name or index, negative from the end).
   * 4-D outputs are globally average-pooled.
   * @default -2 (the layer before the backbone's own last layer)
   */
  featureLayer?: string | number;
  /** Fraction of each class held out for validation when `data.val` is absent, in [0, 1). @default 0.2 */
  valFraction?: number;
  /** Seed of the split, the head's initialisation, the shuffling and the augmentation. @default 0 */
  seed?: number;
  /** Epochs of the head stage (on cached features), an upper bound with early stopping. @default 30 */
  epochs?: number;
  /** Examples per step in both stages. @default 32 */
  batchSize?: number;
  /** Learning rate of the head stage. @default 0.003 */
  learningRate?: number;
  /** Optimizer of both stages. @default 'adam' */
  optimizer?: OptimizerKind;
  /**
   * Top stages of the backbone to fine-tune end to end after the head stage (a stage is a weight-bearing layer with
   * the weightless layers after it); 0 trains the head only.
   * @default 0
   */
  unfreeze?: number;
  /** Epochs of the fine-tuning stage (upper bound with early stopping). @default 5 */
  fineTuneEpochs?: number;
  /** Learning rate of the head in the fine-tuning stage; the unfrozen backbone stages get a tenth of it. @default 0.0003 */
  fineTuneLearningRate?: number;
  /** Epochs without a lower validation loss before a stage stops (the best epoch's weights are restored). @default 4 */
  patience?: number;
  /** Augmentation of the training images (`true` for the defaults of {@link FinetuneAugment}). @default false */
  augment?: boolean | FinetuneAugment;
  /** Images per chunk of feature extraction (and per cache entry). @default 256 */
  chunkSize?: number;
  /** Memory budget of one forward pass's activations, in MiB (sets the extraction batch size). @default 64 */
  memoryBudgetMB?: number;
  /** Where chunk features are kept between runs. @default no cache */
  cache?: FeatureCache;
  /** Identity of the backbone in cache keys (e.g. a hash of its weights): required with `cache`. @default undefined */
  cacheKey?: string;
  /** Progress: phases `'extract'` (images), `'head'` and `'finetune'` (steps, with `{ loss, epoch }`). @default undefined */
  onProgress?: ProgressCallback;
  /** Called after each epoch of either stage. @default undefined */
  onEpoch?: (epoch: FinetuneEpoch) => void;
}

/** One epoch of {@link finetune}. */
export interface FinetuneEpoch {
  /** `'head'` (on cached features) or `'finetune'` (end to end, with unfrozen stages). */
  stage: 'head' | 'finetune';
  /** Epoch number within the stage, from 1. */
  epoch: number;
  /** Epochs planned in the stage. */
  epochs: number;
  /** Mean training loss (cross-entropy). */
  loss: number;
  /** Validation cross-entropy (`NaN` without validation images). */
  valLoss: number;
  /** Validation accuracy (`NaN` without validation images). */
  valAccuracy: number;
  /** Seconds the epoch took, evaluation included. */
  seconds: number;
}

/** Figures of a {@link finetune} run. */
export interface FinetuneMetrics {
  /** Validation accuracy of the returned model. */
  valAccuracy: number;
  /** Validation accuracy after the head stage alone. */
  headValAccuracy: number;
  /** Validation cross-entropy of the returned model. */
  valLoss: number;
  /** Accuracy within each class on validation images (`NaN` for a class without any). */
  perClassAccuracy: number[];
  /** Confusion matrix on validation images: `confusion[true][predicted]` counts. */
  confusion: number[][];
  /** Training and validation image counts. */
  counts: {
    /** Training images (the head stage's rows before augmentation). */
    train: number;
    /** Validation images. */
    val: number;
  };
  /** Length of the feature vector the head reads. */
  featureDim: number;
  /** The backbone layer the head reads. */
  featureLayer: string;
  /** `[height, width, channels]` of the model input. */
  inputShape: [number, number, number];
  /** Backbone stages fine-tuned end to end (0: head only). */
  unfreeze: number;
  /** Seconds spent in each phase. */
  seconds: {
    /** Feature extraction (all chunks, cached ones included). */
    extract: number;
    /** Head stage. */
    head: number;
    /** Fine-tuning stage (0 without `unfreeze`). */
    finetune: number;
    /** The whole call. */
    total: number;
  };
  /** Extraction chunks, and how many were read from the cache. */
  chunks: {
    /** Chunks extracted or read. */
    total: number;
    /** Chunks read from the cache. */
    cached: number;
  };
  /** Epochs run in each stage and the epoch whose weights were kept. */
  epochs: {
    /** Head epochs run. */
    head: number;
    /** Head epoch kept (0: none beat the start). */
    headBest: number;
    /** Fine-tuning epochs run. */
    finetune: number;
    /** Fine-tuning epoch kept (0: the head stage's weights were kept). */
    finetuneBest: number;
  };
}

/** Predictions of the returned model on the validation images. */
export interface FinetuneValPredictions {
  /** Index of each validation image in its set (`data.val`, or `data.train` when the split was made). */
  indices: number[];
  /** True class ids. */
  labels: number[];
  /** Predicted class ids. */
  predicted: number[];
  /** Probability of the predicted class. */
  confidence: number[];
}

/** What {@link finetune} returns. */
export interface FinetuneResult {
  /** Backbone (up to the feature layer) + pooling + the new softmax head: images in, class probabilities out. The
   * caller owns it (dispose it); it shares no variables with the backbone passed in. */
  model: tfl.LayersModel;
  /** Class names: output unit `i` is `classNames[i]`. */
  classNames: string[];
  /** Accuracy, confusion matrix, timings. */
  metrics: FinetuneMetrics;
  /** Every epoch of both stages. */
  history: FinetuneEpoch[];
  /** The validation predictions (for a list of misclassified images). */
  val: FinetuneValPredictions;
  /** The split made when `data.val` was absent: indices into `data.train`. */
  split?: {
    /** Training images, ascending. */
    trainIndices: number[];
    /** Validation images, ascending. */
    valIndices: number[];
  };
}
