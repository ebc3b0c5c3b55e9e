/**
 * Specialist models (Hinton, Vinyals & Dean 2015, section 5.2): each specialist starts from the generalist's
 * weights, gets a new head over its subset's classes plus a dustbin, and is trained on its enriched data set.
 *
 * The deep copy here goes through the model's JSON topology and `setWeights` (the weights are copied, never
 * shared), and the new head is a softmax `Dense` layer on the generalist head's input.
 *
 * @module
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  checkTensor,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import type { ProgressCallback } from '../core/types.js';
import { type ContainerLike, isLayersModel } from '../model/kinds.js';
import { resolveLayer } from '../model/layers.js';
import { type OutputKind, outputKind } from '../model/output-kind.js';
import { LayerTransfer } from '../transfer/layer-transfer.js';
import { validateClusters } from './clustering.js';
import { checkLabelsPerRow } from './internal.js';

/** Options of {@link createSpecialist}. */
export interface CreateSpecialistOptions {
  /**
   * How the new head starts: `'generalist'` copies the generalist head's columns for the subset's classes and
   * gives the dustbin the mean of the other columns (bias: `mean + log(count)`, the log-sum-exp of equal logits),
   * so the specialist starts close to the generalist's opinion; `'random'` keeps LayerTransfer's re-initialised
   * head (the generalist head's initializer, seeded).
   * @default 'generalist'
   */
  headInit?: 'generalist' | 'random';
  /** Seed of the re-initialised head (see {@link LayerTransfer}). @default 0 */
  seed?: number;
}

/** The known keys of {@link CreateSpecialistOptions}. */
const CREATE_SPECIALIST_OPTION_KEYS = knownKeys<CreateSpecialistOptions>({ headInit: true, seed: true });

/**
 * Makes a specialist from a generalist (Hinton et al. 2015, section 5.2) with {@link LayerTransfer}: every layer but
 * the last copied (new variables holding the generalist's values), and the head replaced by a `Dense` layer of
 * `classes.length + 1` units (the subset's classes in the order given, then the dustbin) with the generalist head's
 * activation, so the specialist returns logits or probabilities like the generalist (see
 * {@link outputKind}). The generalist's last layer must be a `Dense` layer; for other architectures plug in a
 * `modelFactory` (see {@link SpecialistEnsemble.train}).
 *
 * The caller owns the returned model (dispose it with `model.dispose()`).
 *
 * @example
 * ```ts
 * const specialist = await createSpecialist(generalist, [3, 5, 8]); // outputs [batch, 4]
 * ```
 */
export async function createSpecialist(
  generalist: tfl.LayersModel,
  classes: readonly number[],
  options?: CreateSpecialistOptions,
): Promise<tfl.LayersModel> {
  const fn = 'createSpecialist';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, CREATE_SPECIALIST_OPTION_KEYS);
  if (!isLayersModel(generalist)) {
    throw new InvalidArgumentError(fn, 'generalist', 'a tfjs-layers LayersModel', generalist);
  }
  // The head is the model's output layer, `-1` in the one layer-reference meaning of src/model.
  const head = resolveLayer(generalist as unknown as ContainerLike, -1, fn, 'generalist').layer;
  if (head.getClassName() !== 'Dense') {
    throw new InvalidArgumentError(
      fn,
      'generalist',
      'a model whose last layer is a Dense classification head (or use a modelFactory)',
      `${head.getClassName()} layer \`${head.name}\``,
    );
  }
  const outShape = generalist.outputs[0].shape;
  const numClasses = outShape[outShape.length - 1] as number;
  const [set] = validateClusters(fn, [classes], numClasses);
  const headInit = opts.headInit ?? 'generalist';
  checkOneOf(fn, 'options.headInit', headInit, ['generalist', 'random'] as const);
  const seed = opts.seed ?? 0;
  checkInteger(fn, 'options.seed', seed);

  const transfer = new LayerTransfer(generalist, {
    head: { kind: 'replace', numClasses: set.length + 1 },
    seed,
  });
  const model = transfer.model;
  try {
    if (headInit === 'generalist') {
      const [kernel, bias] = head.getWeights();
      const init = tf.tidy(() => {
        const inside = tf.tensor1d(set, 'int32');
        const others: number[] = [];
        for (let c = 0; c < numClasses; c++) if (!set.includes(c)) others.push(c);
        const outside = tf.tensor1d(others, 'int32');
        const k = tf.concat(
          [tf.gather(kernel, inside, 1), tf.mean(tf.gather(kernel, outside, 1), 1, true)],
          1,
        );
        if (!bias) return [k];
        const b = tf.concat([
          tf.gather(bias, inside),
          tf.add(tf.mean(tf.gather(bias, outside), 0, true), Math.log(others.length)),
        ]);
        return [k, b];
      });
      try {
        model.layers[model.layers.length - 1].setWeights(init);
      } finally {
        tf.dispose(init);
      }
    }
    return model;
  } catch (e) {
    transfer.dispose();
    throw e;
  }
}

/** Options of {@link trainSpecialist}. */
export interface TrainSpecialistOptions {
  /** Passes over the data. @default 3 */
  epochs?: number;
  /** Mini-batch size. @default 64 */
  batchSize?: number;
  /** Adam's learning rate. @default 0.001 */
  learningRate?: number;
  /** What the model's output is (`'logits'` trains with softmax cross-entropy on them). @default 'probabilities' */
  outputKind?: OutputKind;
  /** Progress per batch, phase `'specialist'`, with the running loss. */
  onProgress?: ProgressCallback;
  /** Phase name in progress events. @default 'specialist' */
  phase?: string;
}

/** Per-epoch training figures. */
export interface SpecialistTrainHistory {
  /** Mean training loss of each epoch. */
  loss: number[];
  /** Training accuracy of each epoch (over the specialist's classes + dustbin). */
  accuracy: number[];
}

/** The known keys of {@link TrainSpecialistOptions}. */
const TRAIN_SPECIALIST_OPTION_KEYS = knownKeys<TrainSpecialistOptions>({
  epochs: true,
  batchSize: true,
  learningRate: true,
  outputKind: true,
  onProgress: true,
  phase: true,
});

/**
 * Trains a model on (remapped) labels with Adam and cross-entropy through `model.fit`, in the order given (the
 * enriched sample is already shuffled, so runs are reproducible), reporting progress per batch. Disposes its
 * optimizer; the caller's `x` is not disposed.
 *
 * @param labels class index per row of `x`, in `[0, numOutputs)`
 * @example
 * ```ts
 * const s = enrichedSample(yTrain, [3, 5, 8], 10);
 * const xs = tf.gather(xTrain, s.indices);
 * await trainSpecialist(specialist, xs, s.labels, 4, { epochs: 2 });
 * xs.dispose();
 * ```
 */
export async function trainSpecialist(
  model: tfl.LayersModel,
  x: Tensor,
  labels: ArrayLike<number>,
  numOutputs: number,
  options?: TrainSpecialistOptions,
): Promise<SpecialistTrainHistory> {
  const fn = 'trainSpecialist';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, TRAIN_SPECIALIST_OPTION_KEYS);
  if (!isLayersModel(model)) throw new InvalidArgumentError(fn, 'model', 'a tfjs-layers LayersModel', model);
  checkTensor(fn, 'x', x);
  checkInteger(fn, 'numOutputs', numOutputs, 2);
  checkLabelsPerRow(fn, labels, x.shape[0]);
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] >= numOutputs) {
      throw new InvalidArgumentError(fn, `labels[${i}]`, `an integer in [0, ${numOutputs - 1}]`, labels[i]);
    }
  }
  const outShape = model.outputs[0].shape;
  if (outShape[outShape.length - 1] !== numOutputs) {
    throw new ShapeMismatchError(
      fn,
      'model',
      `a model with ${numOutputs} outputs`,
      outShape.map((d) => d ?? -1),
    );
  }
  const epochs = opts.epochs ?? 3;
  checkInteger(fn, 'options.epochs', epochs, 1);
  const batchSize = opts.batchSize ?? 64;
  checkInteger(fn, 'options.batchSize', batchSize, 1);
  const lr = opts.learningRate ?? 1e-3;
  checkPositive(fn, 'options.learningRate', lr);
  const outputKind = opts.outputKind ?? 'probabilities';
  checkOneOf(fn, 'options.outputKind', outputKind, ['probabilities', 'logits'] as const);
  const phase = opts.phase ?? 'specialist';

  const optimizer = tf.train.adam(lr);
  const y = tf.tidy(() =>
    tf.cast(tf.oneHot(tf.tensor1d(Array.from(labels), 'int32'), numOutputs), 'float32'),
  );
  try {
    model.compile({
      optimizer,
      loss:
        outputKind === 'probabilities'
          ? 'categoricalCrossentropy'
          : (yTrue: Tensor, yPred: Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
      metrics: ['accuracy'],
    });
    const batches = Math.ceil(x.shape[0] / batchSize);
    const total = batches * epochs;
    let epoch = 0;
    const history = await model.fit(x, y, {
      epochs,
      batchSize,
      shuffle: false,
      verbose: 0,
      callbacks: {
        onEpochBegin: async (e: number) => {
          epoch = e;
        },
        onBatchEnd: async (batch: number, logs?: tfl.Logs) => {
          opts.onProgress?.({
            phase,
            done: epoch * batches + batch + 1,
            total,
            metrics: logs?.loss !== undefined ? { loss: logs.loss } : undefined,
          });
        },
      },
    });
    const acc = (history.history.acc ?? history.history.accuracy ?? []) as number[];
    return { loss: (history.history.loss as number[]).map(Number), accuracy: acc.map(Number) };
  } finally {
    y.dispose();
    optimizer.dispose();
  }
}
