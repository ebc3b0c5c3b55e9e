/**
 * The Keras-style alternative to LayerTransfer for a GraphModel: a GraphModel is a frozen, converted graph (no
 * layers to copy, no variables to train), so "transfer" means frozen graph-model features (a node, pooled) under a
 * new trainable head, built in one call.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkInteger, checkOneOf, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
import { DisposedError, InvalidArgumentError } from '../core/errors.js';
import type { Classifier } from '../core/types.js';
import { FeatureExtractor } from '../features/extractor.js';
import type { PoolMode } from '../features/normalize.js';
import { POOL_MODES } from '../features/normalize.js';
import type { Preprocessing } from '../features/views.js';
import { type GraphModelLike, isGraphModel } from '../model/kinds.js';
import { type GroupTrainHistory, type GroupTrainOptions, trainWithGroups } from './train.js';

/** Options of {@link GraphModelClassifier}. */
export interface GraphModelClassifierOptions {
  /** The graph node whose activations are the frozen features (see `FeatureExtractor.listTaps(graphModel)`). */
  tap: string;
  /** Classes of the new head. */
  numClasses: number;
  /**
   * Pooling of the node's activations.
   * @default 'avg'
   */
  pool?: PoolMode;
  /**
   * Units of hidden ReLU layers of the head before the classifier layer (Oquab et al.'s adaptation layers).
   * @default []
   */
  hidden?: readonly number[];
  /**
   * Seed of the head's initializers.
   * @default 0
   */
  seed?: number;
  /** Pixel preprocessing declared to the extractor. @default identity */
  preprocess?: Preprocessing;
}

/** The known keys of {@link GraphModelClassifierOptions}. */
const GRAPH_MODEL_CLASSIFIER_OPTION_KEYS = knownKeys<GraphModelClassifierOptions>({
  tap: true,
  numClasses: true,
  pool: true,
  hidden: true,
  seed: true,
  preprocess: true,
});

/**
 * A GraphModel's frozen features with a trainable tfjs-layers head. `predict` returns logits.
 *
 * @example
 * ```ts
 * const clf = new GraphModelClassifier(graphModel, { tap: 'MobilenetV2/Logits/AvgPool', numClasses: 3 });
 * await clf.fit({ x: images, labels }, { epochs: 5 });
 * const logits = clf.predict(images);
 * ```
 */
export class GraphModelClassifier implements Classifier {
  /** Reads the frozen features (the GraphModel is never trained). */
  readonly extractor: FeatureExtractor;
  /** The new trainable head: features `[N, dim]` to logits `[N, numClasses]`. */
  readonly head: tfl.Sequential;
  /** Number of classes. */
  readonly numClasses: number;
  /** The head returns logits. */
  readonly outputKind = 'logits' as const;
  private disposed = false;

  /**
   * Builds frozen GraphModel features + a new trainable head: what `LayerTransfer` does for a LayersModel, for a
   * GraphModel (which has no layers to copy; `new LayerTransfer(graphModel)` throws a `GraphModelNotSupportedError`
   * pointing here). The feature dimension is measured with one forward pass of a zero image.
   *
   * @param model - the GraphModel (stays the caller's).
   * @param options - the tap, the number of classes, pooling and the head's hidden layers.
   */
  constructor(model: GraphModelLike, options: GraphModelClassifierOptions) {
    const fn = 'GraphModelClassifier';
    if (!isGraphModel(model)) {
      throw new InvalidArgumentError(
        fn,
        'model',
        'a GraphModel (for a LayersModel use new LayerTransfer)',
        model,
      );
    }
    const opts = checkOptions(fn, 'options', options);
    checkOptionKeys(fn, 'options', opts, GRAPH_MODEL_CLASSIFIER_OPTION_KEYS);
    if (typeof opts.tap !== 'string' || opts.tap.length === 0) {
      throw new InvalidArgumentError(fn, 'options.tap', 'a node name of the graph', opts.tap);
    }
    checkInteger(fn, 'options.numClasses', opts.numClasses, 2);
    const pool = opts.pool ?? 'avg';
    checkOneOf(fn, 'options.pool', pool, POOL_MODES);
    const hidden = opts.hidden ?? [];
    if (!Array.isArray(hidden))
      throw new InvalidArgumentError(fn, 'options.hidden', 'an array of unit counts', hidden);
    hidden.forEach((u, i) => {
      checkInteger(fn, `options.hidden[${i}]`, u, 1);
    });
    const seed = opts.seed ?? 0;
    checkInteger(fn, 'options.seed', seed);
    const extractor = new FeatureExtractor(model, {
      taps: [{ layer: opts.tap, pool }],
      ...(opts.preprocess !== undefined ? { preprocess: opts.preprocess } : {}),
    });
    try {
      const shape = (model.inputs[0].shape ?? []).map((d, i) =>
        i === 0 ? 1 : d === null || d === -1 ? 1 : d,
      );
      const dim = tf.tidy(() => {
        const [f] = extractor.extract(tf.zeros(shape as number[]));
        return f.shape[1];
      });
      const layers: tfl.layers.Layer[] = [];
      hidden.forEach((units, i) => {
        layers.push(
          tfl.layers.dense({
            units,
            activation: 'relu',
            ...(i === 0 ? { inputShape: [dim] } : {}),
            kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + i }),
            name: `head_hidden${i + 1}`,
          }),
        );
      });
      layers.push(
        tfl.layers.dense({
          units: opts.numClasses,
          ...(hidden.length === 0 ? { inputShape: [dim] } : {}),
          kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + hidden.length }),
          name: 'head_logits',
        }),
      );
      this.head = tfl.sequential({ layers });
      this.extractor = extractor;
      this.numClasses = opts.numClasses;
    } catch (e) {
      extractor.dispose();
      throw e;
    }
  }

  private check(method: string): void {
    if (this.disposed) throw new DisposedError('GraphModelClassifier', method);
  }

  /** Logits `[N, numClasses]` for a batch of images (the caller owns them). */
  predict(x: tf.Tensor): tf.Tensor2D {
    this.check('predict');
    const [f] = this.extractor.extract(x);
    try {
      return this.head.predict(f) as tf.Tensor2D;
    } finally {
      f.dispose();
    }
  }

  /**
   * Trains the head on frozen features: the features of `data.x` are extracted ONCE (one graph forward pass per
   * batch), then the head is trained with transferkit's training loop (`trainWithGroups`).
   */
  async fit(
    data: { x: tf.Tensor; labels: tf.Tensor1D | ArrayLike<number> },
    options?: Omit<GroupTrainOptions, 'groups' | 'outputKind'>,
  ): Promise<GroupTrainHistory> {
    this.check('fit');
    const [features] = await this.extractor.extractAll(data.x);
    const f = features.toTensor();
    try {
      return await trainWithGroups(
        this.head,
        { x: f, labels: data.labels },
        { ...options, outputKind: 'logits' },
      );
    } finally {
      f.dispose();
    }
  }

  /** Frees the head and the extractor (the GraphModel stays the caller's). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.extractor.dispose();
    this.head.dispose();
  }
}
