/**
 * A small training loop for classifiers over grouped variable lists (one learning rate per group), with seeded
 * shuffling and progress, plus accuracy evaluation in batches. tfjs's `fit()` takes one optimizer and one rate;
 * this loop is what discriminative fine-tuning and the transfer experiment train with.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { classifierClasses } from '../classify/evaluate.js';
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
import { readLabels } from '../core/labels.js';
import { runTrainingLoop } from '../core/train-loop.js';
import type { LabeledData, ProgressCallback } from '../core/types.js';
import { seedDropoutMasks } from '../model/dropout.js';
import { type OutputKind, outputKind } from '../model/output-kind.js';
import {
  GroupedOptimizer,
  OPTIMIZER_KINDS,
  type OptimizerKind,
  type ParameterGroup,
} from './grouped-optimizer.js';

/** Options of {@link trainWithGroups}. */
export interface GroupTrainOptions {
  /**
   * Passes over the data.
   * @default 1
   */
  epochs?: number;
  /**
   * Examples per step.
   * @default 32
   */
  batchSize?: number;
  /**
   * Learning rate of the groups that do not set their own (all variables, when `groups` is not given).
   * @default 0.001
   */
  learningRate?: number;
  /**
   * Optimizer of every group.
   * @default 'adam'
   */
  optimizer?: OptimizerKind;
  /**
   * Seed of the shuffling (one permutation per epoch, drawn from one `Rng`) and of the dropout masks.
   * @default 0
   */
  seed?: number;
  /**
   * Whether the model outputs logits or probabilities; `'auto'` looks at the output layer's activation.
   * @default 'auto'
   */
  outputKind?: OutputKind | 'auto';
  /**
   * Parameter groups with their own learning rates; default: one group of all trainable weights of the model at
   * `learningRate`.
   * @default undefined
   */
  groups?: readonly ParameterGroup[];
  /** Progress: phase `'train'`, one event per step, with `{ loss, epoch }`. @default undefined */
  onProgress?: ProgressCallback;
  /**
   * Called after each epoch with its number (from 1) and mean loss; returning `true` stops training (early
   * stopping). The optimizer state carries over between epochs.
   * @default undefined
   */
  onEpochEnd?: (epoch: number, loss: number) => boolean | undefined | Promise<boolean | undefined>;
  /**
   * Maps each training batch of inputs before the forward pass (data augmentation). Runs inside the step's scope:
   * intermediates are freed; do not dispose the batch it receives.
   * @default undefined
   */
  transformBatch?: (x: tf.Tensor) => tf.Tensor;
  /**
   * Steps between read-backs of the loss from the backend (see the core training loop): every per-step progress
   * event is still delivered, in order and with the same value, at most `readEvery - 1` steps late.
   * @default 10
   */
  readEvery?: number;
}

/** What {@link trainWithGroups} returns. */
export interface GroupTrainHistory {
  /** Mean loss of each epoch. */
  loss: number[];
  /** Number of steps done. */
  steps: number;
}

/**
 * Validates a data set against a single-input, single-output classifier and returns its labels and class count.
 *
 * @throws {@link ShapeMismatchError} when `x` does not fit the model's input shape or the labels' count differs,
 * {@link InvalidArgumentError} for labels outside `[0, numClasses)`
 */
export async function checkClassificationData(
  fn: string,
  argument: string,
  model: tfl.LayersModel,
  data: unknown,
): Promise<{ labels: Int32Array; numClasses: number }> {
  if (typeof data !== 'object' || data === null) {
    throw new InvalidArgumentError(fn, argument, 'an object { x, labels }', data);
  }
  const { x, labels: rawLabels } = data as LabeledData;
  checkTensor(fn, `${argument}.x`, x);
  const numClasses = classifierClasses(fn, `${argument}.x`, model, x);
  const labels = await readLabels(fn, `${argument}.labels`, rawLabels, { count: x.shape[0], numClasses });
  return { labels, numClasses };
}

/** Mean cross-entropy of a batch, from logits or probabilities. */
export function crossEntropy(output: tf.Tensor, oneHot: tf.Tensor, kind: OutputKind): tf.Scalar {
  return tf.tidy(() => {
    if (kind === 'logits') return tf.losses.softmaxCrossEntropy(oneHot, output) as tf.Scalar;
    const logp = tf.log(tf.clipByValue(output, 1e-7, 1));
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logp), -1))) as tf.Scalar;
  });
}

/** All trainable variables of a model (frozen layers excluded). */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable).filter((v) => v.trainable);
}

/** The known keys of {@link GroupTrainOptions}. */
const GROUP_TRAIN_OPTION_KEYS = knownKeys<GroupTrainOptions>({
  epochs: true,
  batchSize: true,
  learningRate: true,
  optimizer: true,
  seed: true,
  outputKind: true,
  groups: true,
  onProgress: true,
  onEpochEnd: true,
  transformBatch: true,
  readEvery: true,
});

/**
 * Trains a classifier with cross-entropy on integer labels: seeded shuffling, one optimizer per parameter group
 * (see {@link GroupedOptimizer}), forward passes in training mode (dropout on; BatchNormalization as its policy says).
 * Leaves no tensor behind; the model's variables are updated in place.
 *
 * @throws {@link InvalidArgumentError} / {@link ShapeMismatchError} for bad options or data, before any training
 * @example
 * ```ts
 * const history = await trainWithGroups(model, { x: images, labels }, { epochs: 2, batchSize: 64, seed: 1 });
 * history.loss; // mean loss per epoch
 * ```
 */
export async function trainWithGroups(
  model: tfl.LayersModel,
  data: LabeledData,
  options?: GroupTrainOptions,
): Promise<GroupTrainHistory> {
  const fn = 'trainWithGroups';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, GROUP_TRAIN_OPTION_KEYS);
  const epochs = opts.epochs ?? 1;
  checkInteger(fn, 'options.epochs', epochs, 1);
  const batchSize = opts.batchSize ?? 32;
  checkInteger(fn, 'options.batchSize', batchSize, 1);
  const learningRate = opts.learningRate ?? 1e-3;
  checkPositive(fn, 'options.learningRate', learningRate);
  const optimizer = opts.optimizer ?? 'adam';
  checkOneOf(fn, 'options.optimizer', optimizer, OPTIMIZER_KINDS);
  const seed = opts.seed ?? 0;
  checkInteger(fn, 'options.seed', seed);
  const readEvery = opts.readEvery ?? 10;
  checkInteger(fn, 'options.readEvery', readEvery, 1);
  const kindOpt = opts.outputKind ?? 'auto';
  checkOneOf(fn, 'options.outputKind', kindOpt, ['auto', 'logits', 'probabilities'] as const);
  const { labels, numClasses } = await checkClassificationData(fn, 'data', model, data);
  const kind: OutputKind = kindOpt === 'auto' ? outputKind(model) : kindOpt;
  const groups = opts.groups ?? [{ name: 'all', variables: trainableVariables(model), learningRate }];
  if (!groups.some((g) => g.variables.some((v) => v.trainable))) {
    throw new InvalidArgumentError(
      fn,
      'model',
      'a model with trainable weights (is every layer frozen?)',
      model.name,
    );
  }
  const grouped = new GroupedOptimizer(groups, { optimizer });
  const count = labels.length;
  const stepsPerEpoch = Math.ceil(count / batchSize);
  const total = epochs * stepsPerEpoch;
  const history: GroupTrainHistory = { loss: [], steps: 0 };
  const unseedDropout = seedDropoutMasks(model, seed);
  try {
    const loop = await runTrainingLoop({
      count,
      batchSize,
      epochs,
      seed,
      readEvery,
      step: ({ indices }) => {
        const y = Int32Array.from(indices, (i) => labels[i]);
        const loss = tf.tidy(() => {
          const gathered = tf.gather(data.x, tf.tensor1d(indices, 'int32'));
          const xb = opts.transformBatch ? opts.transformBatch(gathered) : gathered;
          const yb = tf.oneHot(tf.tensor1d(y, 'int32'), numClasses);
          return grouped.step(() => crossEntropy(model.apply(xb, { training: true }) as tf.Tensor, yb, kind));
        });
        return { loss };
      },
      // Braces: a progress callback's return value is ignored (the loop reads `true` from onStep as "stop").
      onStep: (m) => {
        opts.onProgress?.({ phase: 'train', done: m.done, total, metrics: { loss: m.loss, epoch: m.epoch } });
      },
      onEpoch: async (r) => {
        history.loss.push(r.loss);
        return opts.onEpochEnd ? (await opts.onEpochEnd(r.epoch, r.loss)) === true : undefined;
      },
    });
    history.steps = loop.steps;
  } finally {
    unseedDropout();
    grouped.dispose();
  }
  return history;
}
