/**
 * A small, seeded training loop for classifiers that output logits (the zoo's models, or any tfjs-layers model).
 * tfjs-layers' `fit({shuffle: true})` shuffles with `Math.random`; this loop (the core training loop) shuffles with a seeded `Rng`, so the
 * batch order is the same on every backend for a seed.
 *
 * @module
 */
import type { Optimizer, Scalar, Tensor, Tensor1D, Tensor2D, Variable } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  checkClassIndices,
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  checkTensor,
} from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { type LoopResult, runTrainingLoop } from '../core/train-loop.js';
import type { ProgressCallback } from '../core/types.js';
import { makeAdam } from '../kernels/adam.js';
import { seedDropoutMasks } from '../model/dropout.js';

/** Labels for {@link trainClassifier}: int32 class indices `[n]`, or (soft) targets `[n, classes]`. */
export type ClassifierTargets = Tensor1D | Tensor2D;

/** Held-out data that {@link trainClassifier} evaluates after every epoch. */
export interface ValidationData {
  /** Inputs `[n, ...]`. */
  x: Tensor;
  /** Int32 class indices `[n]` or targets `[n, classes]`. */
  y: ClassifierTargets;
}

/** Options of {@link trainClassifier}. */
export interface TrainClassifierOptions {
  /**
   * Passes over the training data.
   * @default 1
   */
  epochs?: number;
  /**
   * Examples per gradient step.
   * @default 64
   */
  batchSize?: number;
  /**
   * Learning rate of the optimizer.
   * @default 0.001
   */
  learningRate?: number;
  /**
   * `'adam'`, `'sgd'`, `'momentum'` (0.9), or an optimizer of your own (not disposed by the call).
   * @default 'adam'
   */
  optimizer?: 'adam' | 'sgd' | 'momentum' | Optimizer;
  /**
   * Seed of the batch order (a fresh permutation every epoch) and of the dropout masks (each Dropout layer draws a
   * fresh mask every step from a stream of this seed, so the same seed gives the same trained weights).
   * @default 0
   */
  seed?: number;
  /**
   * Called after every batch (`phase: 'train'`, `done`/`total` in batches over all epochs, metrics `loss`, `acc`,
   * `epoch`) and after every epoch (`phase: 'epoch'`, metrics of the epoch, with `valLoss`/`valAcc`).
   */
  onProgress?: ProgressCallback;
  /** Data evaluated at the end of every epoch. */
  validation?: ValidationData;
  /**
   * Batch size used for evaluation.
   * @default 256
   */
  evalBatchSize?: number;
  /**
   * Steps between read-backs of the loss and accuracy from the backend. The step's scalars stay on the device until
   * then, so a step does not wait for the previous one to be copied out; every per-step progress event is still
   * delivered, in order, with the same numbers (up to `readEvery - 1` steps late), and the epoch's figures do not
   * depend on it.
   * @default 10
   */
  readEvery?: number;
}

/** The metrics of one epoch of {@link trainClassifier}. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss (softmax cross-entropy on the logits) over the epoch's batches, weighted by batch size. */
  loss: number;
  /** Training accuracy over the epoch (measured on each batch before its update, dropout on). */
  acc: number;
  /** Validation loss, when `validation` is given. */
  valLoss?: number;
  /** Validation accuracy, when `validation` is given. */
  valAcc?: number;
  /** Wall-clock seconds of the epoch (training and validation). */
  seconds: number;
}

/** The result of {@link trainClassifier}. */
export interface TrainHistory {
  /** One record per epoch. */
  epochs: EpochRecord[];
  /** Total wall-clock seconds. */
  seconds: number;
  /** Examples per second over all training steps. */
  examplesPerSecond: number;
}

/** Validation metrics of one epoch (soft targets allowed, unlike the public evaluateClassifier). */
interface TargetEvaluation {
  /** Mean softmax cross-entropy on the logits. */
  loss: number;
  /** Fraction of examples whose arg-max logit is the target's arg-max class. */
  accuracy: number;
  /** Number of examples. */
  count: number;
}

function checkTargets(fn: string, argument: string, x: Tensor, y: unknown, numClasses?: number): void {
  checkTensor(fn, argument, y, { rank: [1, 2] });
  if (y.shape[0] !== x.shape[0]) {
    throw new ShapeMismatchError(fn, argument, `${x.shape[0]} targets (one per example of x)`, y.shape);
  }
  if (y.rank === 1 && y.dtype !== 'int32') {
    throw new InvalidArgumentError(fn, argument, 'int32 class indices (rank 1) or targets [n, classes]', y);
  }
  if (y.rank === 2 && numClasses !== undefined && y.shape[1] !== numClasses) {
    throw new ShapeMismatchError(fn, argument, `targets [n, ${numClasses}]`, y.shape);
  }
}

/** Throws unless `x` matches the model's input shape (batch and unknown sizes aside). */
function checkInput(fn: string, model: tfl.LayersModel, x: Tensor): void {
  const expected = model.inputs?.[0]?.shape;
  if (model.inputs?.length !== 1 || expected === undefined) {
    throw new InvalidArgumentError(fn, 'model', 'a LayersModel with one input', model);
  }
  const ok =
    expected.length === x.rank && expected.every((d, i) => i === 0 || d === null || d === x.shape[i]);
  if (!ok) {
    throw new ShapeMismatchError(
      fn,
      'x',
      `inputs of the model's shape [${expected.map((d) => d ?? '*').join(', ')}]`,
      x.shape,
    );
  }
}

function outputClasses(fn: string, model: tfl.LayersModel): number {
  const shape = model.outputs?.[0]?.shape;
  if (
    model.outputs?.length !== 1 ||
    shape === undefined ||
    shape.length !== 2 ||
    typeof shape[1] !== 'number'
  ) {
    throw new InvalidArgumentError(fn, 'model', 'a LayersModel with one output [batch, classes]', model);
  }
  return shape[1];
}

/** Softmax cross-entropy and the number of correct arg-max predictions of a batch (inside a tidy). */
function batchLoss(logits: Tensor2D, y: Tensor, numClasses: number): { loss: Scalar; correct: Scalar } {
  const targets = y.rank === 1 ? tf.cast(tf.oneHot(y as Tensor1D, numClasses), 'float32') : y;
  const loss = tf.losses.softmaxCrossEntropy(targets, logits) as Scalar;
  const truth = y.rank === 1 ? y : tf.argMax(y, 1);
  const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), truth), 'float32')) as Scalar;
  return { loss, correct };
}

const TRAIN_OPTION_KEYS = [
  'epochs',
  'batchSize',
  'learningRate',
  'optimizer',
  'seed',
  'onProgress',
  'validation',
  'evalBatchSize',
  'readEvery',
] as const satisfies readonly (keyof TrainClassifierOptions)[];

/** The optimizer for a name (Adam through `makeAdam`: tfjs's, or the fused one when the bench switches it on). */
function makeOptimizer(kind: 'adam' | 'sgd' | 'momentum', lr: number): Optimizer {
  if (kind === 'sgd') return tf.train.sgd(lr);
  if (kind === 'momentum') return tf.train.momentum(lr, 0.9);
  return makeAdam(lr);
}

/**
 * Trains a classifier whose output is logits with softmax cross-entropy, in seeded mini-batches
 * (`optimizer.minimize` over the model's trainable weights only, so frozen layers stay frozen; dropout on, its
 * masks seeded by `seed`: the same seed gives bit-identical weights).
 * The caller keeps ownership of `x`, `y` and the model; no tensor is left behind except the updated weights
 * (and the state of an optimizer passed in).
 *
 * @param x inputs `[n, ...]` matching the model's input
 * @param y int32 class indices `[n]` or targets `[n, classes]` (one-hot or soft)
 * @throws {@link InvalidArgumentError} / {@link ShapeMismatchError} for bad arguments, before any tensor is made
 * @example
 * ```ts
 * const cnn = zeilerFergusCnn({ seed: 1 });
 * const history = await trainClassifier(cnn, mnist.train.x, mnist.train.y, {
 *   epochs: 2, batchSize: 64, learningRate: 1e-3, seed: 1,
 *   validation: { x: mnist.test.x, y: mnist.test.y },
 *   onProgress: (e) => console.log(e.phase, e.done, e.total, e.metrics),
 * });
 * history.epochs.at(-1)?.valAcc; // e.g. 0.97
 * ```
 */
export async function trainClassifier(
  model: tfl.LayersModel,
  x: Tensor,
  y: ClassifierTargets,
  options: TrainClassifierOptions = {},
): Promise<TrainHistory> {
  const fn = 'trainClassifier';
  const numClasses = checkModelAndData(fn, model, x, y);
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, TRAIN_OPTION_KEYS);
  const epochs = opts.epochs ?? 1;
  const batchSize = opts.batchSize ?? 64;
  const learningRate = opts.learningRate ?? 1e-3;
  const seed = opts.seed ?? 0;
  const evalBatchSize = opts.evalBatchSize ?? 256;
  const readEvery = opts.readEvery ?? 10;
  checkInteger(fn, 'options.epochs', epochs, 1);
  checkInteger(fn, 'options.batchSize', batchSize, 1);
  checkInteger(fn, 'options.evalBatchSize', evalBatchSize, 1);
  checkInteger(fn, 'options.readEvery', readEvery, 1);
  checkPositive(fn, 'options.learningRate', learningRate);
  checkInteger(fn, 'options.seed', seed);
  const given = opts.optimizer;
  if (typeof given === 'string' || given === undefined) {
    checkOneOf(fn, 'options.optimizer', given ?? 'adam', ['adam', 'sgd', 'momentum'] as const);
  } else if (typeof (given as Optimizer).minimize !== 'function') {
    throw new InvalidArgumentError(
      fn,
      'options.optimizer',
      "'adam' | 'sgd' | 'momentum' or a tf.Optimizer",
      given,
    );
  }
  if (opts.validation !== undefined) {
    checkTensor(fn, 'options.validation.x', opts.validation.x);
    checkInput(fn, model, opts.validation.x);
    checkTargets(fn, 'options.validation.y', opts.validation.x, opts.validation.y, numClasses);
  }
  const n = x.shape[0];
  if (n === 0) throw new InvalidArgumentError(fn, 'x', 'at least one example', x);
  if (y.rank === 1) await checkClassIndices(fn, 'y', y, numClasses);
  if (opts.validation?.y.rank === 1) {
    await checkClassIndices(fn, 'options.validation.y', opts.validation.y, numClasses);
  }

  const optimizer =
    typeof given === 'object'
      ? given
      : makeOptimizer((given as 'adam' | 'sgd' | 'momentum') ?? 'adam', learningRate);
  const varList = model.trainableWeights.map((w) => w.read() as Variable);
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const total = stepsPerEpoch * epochs;
  const history: EpochRecord[] = [];
  const start = performance.now();
  let epochStart = start;
  let loop: LoopResult;
  const unseedDropout = seedDropoutMasks(model, seed);
  try {
    loop = await runTrainingLoop({
      count: n,
      batchSize,
      epochs,
      seed,
      readEvery,
      step: ({ indices }) =>
        tf.tidy(() => {
          const i = tf.tensor1d(indices, 'int32');
          const xb = tf.gather(x, i);
          const yb = tf.gather(y, i);
          let correct: Scalar | undefined;
          const loss = optimizer.minimize(
            () => {
              const logits = model.apply(xb, { training: true }) as Tensor2D;
              const out = batchLoss(logits, yb, numClasses);
              correct = tf.keep(out.correct);
              return out.loss;
            },
            true,
            varList.length > 0 ? varList : undefined,
          ) as Scalar;
          return { loss, correct: correct as Scalar };
        }),
      // Braces: a progress callback's return value is ignored (the loop reads `true` from onStep as "stop").
      onStep: (m) => {
        opts.onProgress?.({
          phase: 'train',
          done: m.done,
          total,
          metrics: { epoch: m.epoch, loss: m.loss, acc: m.acc as number },
        });
      },
      validate:
        opts.validation === undefined
          ? undefined
          : async () => {
              const v = opts.validation as ValidationData;
              const ev = await evaluateTargets(model, v.x, v.y, { batchSize: evalBatchSize });
              return { valLoss: ev.loss, valAcc: ev.accuracy };
            },
      onEpoch: (r) => {
        const record: EpochRecord = { epoch: r.epoch, loss: r.loss, acc: r.acc ?? 0, seconds: 0 };
        if (r.validation !== undefined) {
          record.valLoss = r.validation.valLoss;
          record.valAcc = r.validation.valAcc;
        }
        record.seconds = (performance.now() - epochStart) / 1000;
        epochStart = performance.now();
        history.push(record);
        const metrics: Record<string, number> = { epoch: r.epoch, loss: record.loss, acc: record.acc };
        if (record.valLoss !== undefined) metrics.valLoss = record.valLoss;
        if (record.valAcc !== undefined) metrics.valAcc = record.valAcc;
        opts.onProgress?.({ phase: 'epoch', done: r.epoch, total: epochs, metrics });
        return undefined;
      },
    });
  } finally {
    unseedDropout();
    if (optimizer !== given) optimizer.dispose();
  }
  return {
    epochs: history,
    seconds: (performance.now() - start) / 1000,
    examplesPerSecond: (n * epochs) / Math.max(loop.trainSeconds, 1e-9),
  };
}

/** Loss and accuracy of a logits classifier on (soft) targets, in batches (inference mode): the validation pass. */
async function evaluateTargets(
  model: tfl.LayersModel,
  x: Tensor,
  y: ClassifierTargets,
  options: { batchSize?: number } = {},
): Promise<TargetEvaluation> {
  const fn = 'trainClassifier';
  const numClasses = checkModelAndData(fn, model, x, y);
  checkOptionKeys(fn, 'options', checkOptions(fn, 'options', options), ['batchSize']);
  const batchSize = options.batchSize ?? 256;
  checkInteger(fn, 'options.batchSize', batchSize, 1);
  if (y.rank === 1) await checkClassIndices(fn, 'y', y, numClasses);
  const n = x.shape[0];
  let lossSum = 0;
  let correctSum = 0;
  for (let s = 0; s < n; s += batchSize) {
    const size = Math.min(batchSize, n - s);
    const [lossT, correctT] = tf.tidy(() => {
      const xb = tf.slice(x, s, size);
      const yb = tf.slice(y, s, size);
      const logits = model.apply(xb, { training: false }) as Tensor2D;
      const out = batchLoss(logits, yb, numClasses);
      return [out.loss, out.correct];
    });
    const [l, c] = await Promise.all([lossT.data(), correctT.data()]);
    tf.dispose([lossT, correctT]);
    lossSum += l[0] * size;
    correctSum += c[0];
  }
  return { loss: n > 0 ? lossSum / n : Number.NaN, accuracy: n > 0 ? correctSum / n : Number.NaN, count: n };
}

/**
 * The checks shared by {@link trainClassifier} and its validation pass, before anything is allocated.
 * Returns the model's number of classes.
 */
function checkModelAndData(fn: string, model: tfl.LayersModel, x: Tensor, y: ClassifierTargets): number {
  if (model === null || typeof model !== 'object' || typeof (model as tfl.LayersModel).apply !== 'function') {
    throw new InvalidArgumentError(fn, 'model', 'a tfjs-layers LayersModel', model);
  }
  const numClasses = outputClasses(fn, model);
  checkTensor(fn, 'x', x);
  checkInput(fn, model, x);
  checkTargets(fn, 'y', x, y, numClasses);
  return numClasses;
}
