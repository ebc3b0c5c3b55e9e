/**
 * A small Zeiler-Fergus-style convolutional network: blocks of convolution + ReLU + max-pooling, then fully
 * connected layers (Zeiler & Fergus 2013, Fig. 3, scaled down so that it trains on MNIST-size inputs on 2 cores).
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {
  checkInRange,
  checkInteger,
  checkNonEmptyArray,
  checkOptionKeys,
  checkOptions,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

/** Options of {@link zeilerFergusCnn}. */
export interface ZeilerFergusCnnOptions {
  /**
   * Input shape `[height, width, channels]` (NHWC without the batch).
   * @default [28, 28, 1]
   */
  inputShape?: [number, number, number];
  /**
   * Number of classes (size of the `logits` layer).
   * @default 10
   */
  numClasses?: number;
  /**
   * Filters of each conv block; block `i` is named `conv{i+1}` / `pool{i+1}`.
   * @default [16, 32]
   */
  filters?: number[];
  /**
   * Kernel size of each conv block (same length as `filters`).
   * @default [5, 3]
   */
  kernelSizes?: number[];
  /**
   * Stride of the first convolution (Zeiler & Fergus reduced it from 4 to 2 after seeing aliasing).
   * @default 1
   */
  firstStride?: number;
  /**
   * Units of each fully connected hidden layer (`fc1`, `fc2`, ...). Empty for none.
   * @default [128]
   */
  hidden?: number[];
  /**
   * Dropout rate after each hidden fully connected layer (`drop1`, ...); 0 adds no dropout layer. The masks are
   * seeded by the training seed when transferkit trains the model (see {@link trainClassifier}).
   * @default 0
   */
  dropout?: number;
  /**
   * Seed of the weight initialisers: the same seed gives the same initial weights on every backend.
   * @default 0
   */
  seed?: number;
  /**
   * Name of the model.
   * @default 'zeiler_fergus_cnn'
   */
  name?: string;
}

/** The known keys of {@link ZeilerFergusCnnOptions}. */
const ZEILER_FERGUS_CNN_OPTION_KEYS = knownKeys<ZeilerFergusCnnOptions>({
  inputShape: true,
  numClasses: true,
  filters: true,
  kernelSizes: true,
  firstStride: true,
  hidden: true,
  dropout: true,
  seed: true,
  name: true,
});

/**
 * Builds a Zeiler-Fergus-style CNN as a tfjs-layers `Sequential` model with named layers:
 * `conv1` (ReLU) -> `pool1` (2x2 max) -> `conv2` (ReLU) -> `pool2` -> ... -> `flatten` -> `fc1` (ReLU)
 * [-> `drop1`] -> ... -> `logits` (linear). The output is **logits** (no softmax): apply `tf.softmax` for
 * probabilities; {@link trainClassifier} trains it with softmax cross-entropy on the logits.
 * Weights are initialised with seeded Glorot-uniform kernels and zero biases.
 *
 * @throws {@link InvalidArgumentError} for bad options, e.g. an input too small for the pooling blocks
 * @example
 * ```ts
 * const cnn = zeilerFergusCnn({ inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
 * cnn.getLayer('conv2').outputShape; // [null, 10, 10, 32]
 * const logits = cnn.predict(x) as tf.Tensor2D; // [batch, 10]
 * ```
 */
export function zeilerFergusCnn(options: ZeilerFergusCnnOptions = {}): tfl.Sequential {
  const fn = 'zeilerFergusCnn';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, ZEILER_FERGUS_CNN_OPTION_KEYS);
  const inputShape = opts.inputShape ?? [28, 28, 1];
  if (!Array.isArray(inputShape) || inputShape.length !== 3) {
    throw new InvalidArgumentError(fn, 'options.inputShape', '[height, width, channels]', inputShape);
  }
  inputShape.forEach((d, i) => {
    checkInteger(fn, `options.inputShape[${i}]`, d, 1);
  });
  const numClasses = opts.numClasses ?? 10;
  checkInteger(fn, 'options.numClasses', numClasses, 2);
  const filters = opts.filters ?? [16, 32];
  const kernelSizes = opts.kernelSizes ?? (opts.filters === undefined ? [5, 3] : filters.map(() => 3));
  checkNonEmptyArray(fn, 'options.filters', filters);
  if (!Array.isArray(kernelSizes) || kernelSizes.length !== filters.length) {
    throw new InvalidArgumentError(
      fn,
      'options.kernelSizes',
      `an array of ${filters.length} kernel sizes (one per filter count)`,
      kernelSizes,
    );
  }
  filters.forEach((f, i) => {
    checkInteger(fn, `options.filters[${i}]`, f, 1);
    checkInteger(fn, `options.kernelSizes[${i}]`, kernelSizes[i], 1);
  });
  const firstStride = opts.firstStride ?? 1;
  checkInteger(fn, 'options.firstStride', firstStride, 1);
  const hidden = opts.hidden ?? [128];
  if (!Array.isArray(hidden))
    throw new InvalidArgumentError(fn, 'options.hidden', 'an array of units', hidden);
  hidden.forEach((h, i) => {
    checkInteger(fn, `options.hidden[${i}]`, h, 1);
  });
  const dropout = opts.dropout ?? 0;
  checkInRange(fn, 'options.dropout', dropout, 0, 1, { hi: true });
  const seed = opts.seed ?? 0;
  checkInteger(fn, 'options.seed', seed);
  // Spatial size through the blocks ('valid' convolutions, 2x2 pools); reject inputs that vanish.
  let h = inputShape[0];
  let w = inputShape[1];
  filters.forEach((_, i) => {
    const k = kernelSizes[i];
    const s = i === 0 ? firstStride : 1;
    h = Math.floor((h - k) / s) + 1;
    w = Math.floor((w - k) / s) + 1;
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
    if (h < 1 || w < 1) {
      throw new InvalidArgumentError(
        fn,
        'options.inputShape',
        `an input large enough for ${filters.length} conv(${kernelSizes.join(',')}) + 2x2 pool blocks`,
        inputShape,
      );
    }
  });

  const rng = new Rng(seed);
  const kernel = () => tfl.initializers.glorotUniform({ seed: rng.seed() });
  const model = tfl.sequential({ name: opts.name ?? 'zeiler_fergus_cnn' });
  filters.forEach((f, i) => {
    model.add(
      tfl.layers.conv2d({
        name: `conv${i + 1}`,
        filters: f,
        kernelSize: kernelSizes[i],
        strides: i === 0 ? firstStride : 1,
        padding: 'valid',
        activation: 'relu',
        kernelInitializer: kernel(),
        biasInitializer: 'zeros',
        ...(i === 0 ? { inputShape } : {}),
      }),
    );
    model.add(tfl.layers.maxPooling2d({ name: `pool${i + 1}`, poolSize: 2, strides: 2 }));
  });
  model.add(tfl.layers.flatten({ name: 'flatten' }));
  hidden.forEach((units, i) => {
    model.add(
      tfl.layers.dense({
        name: `fc${i + 1}`,
        units,
        activation: 'relu',
        kernelInitializer: kernel(),
        biasInitializer: 'zeros',
      }),
    );
    if (dropout > 0) model.add(tfl.layers.dropout({ name: `drop${i + 1}`, rate: dropout }));
  });
  model.add(
    tfl.layers.dense({
      name: 'logits',
      units: numClasses,
      activation: 'linear',
      kernelInitializer: kernel(),
      biasInitializer: 'zeros',
    }),
  );
  return model;
}
