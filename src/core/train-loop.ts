/**
 * The one training loop of transferkit: seeded mini-batches, a step the caller supplies, metrics read back to the
 * CPU every N steps (not every step), validation and early stopping after each epoch. `trainClassifier` (zoo),
 * `trainWithGroups` (transfer, fine-tuning), `Distiller.fit` and the gradient solvers of the linear classifiers
 * all run through {@link runTrainingLoop}; they differ only in their step (loss, optimizer, batch preparation).
 *
 * The step returns its loss (and, optionally, its number of correct predictions) as scalar tensors. The loop keeps
 * them on the device and reads a window of them back every `readEvery` steps, so a step does not wait for the one
 * before it to be copied out; each per-step metric is still reported, in order, with the same value it would have
 * had if read at once (the epoch's figures are identical for every `readEvery`).
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { Rng } from './rng.js';

/** One mini-batch the loop asks {@link TrainLoopOptions.step} to train on. */
export interface LoopBatch {
  /** 1-based epoch. */
  readonly epoch: number;
  /** 0-based step within the epoch. */
  readonly step: number;
  /** Example indices of the batch (a fresh seeded permutation every epoch, or `0..n-1` in order). */
  readonly indices: Int32Array;
  /** The loop's generator, for per-step randomness drawn in step order (e.g. augmentation: `rng.fork()`). */
  readonly rng: Rng;
}

/** What a step returns: scalars the loop takes ownership of (it disposes them after reading them back). */
export interface LoopStepResult {
  /** The batch's loss (a mean over its examples). */
  loss: tf.Scalar;
  /** Number of correct predictions in the batch (float or int scalar), when the step measures accuracy. */
  correct?: tf.Scalar;
}

/** A step's metrics, read back (reported in step order, at most `readEvery` steps late). */
export interface LoopStepMetrics {
  /** 1-based epoch. */
  epoch: number;
  /** 0-based step within the epoch. */
  step: number;
  /** Steps done over all epochs (1-based). */
  done: number;
  /** Steps over all epochs. */
  total: number;
  /** Examples in the batch. */
  size: number;
  /** The batch's loss. */
  loss: number;
  /** The batch's accuracy (`correct / size`), when the step returned `correct`. */
  acc?: number;
}

/** The figures of one epoch of {@link runTrainingLoop}. */
export interface LoopEpoch {
  /** 1-based epoch. */
  epoch: number;
  /** Mean loss: over examples (each batch weighted by its size) or over steps, as `lossMean` says. */
  loss: number;
  /** Fraction of correct predictions over the epoch, when the step returned `correct`. */
  acc?: number;
  /** Steps run. */
  steps: number;
  /** Seconds of the training steps (validation excluded). */
  trainSeconds: number;
  /** What `validate` returned, when given. */
  validation?: Record<string, number>;
}

/** Early stopping of {@link runTrainingLoop}. */
export interface LoopEarlyStopping {
  /** The value to minimise, from an epoch's record (e.g. its validation errors). */
  value: (record: LoopEpoch) => number;
  /** Epochs without improvement before stopping. */
  patience: number;
  /** The smallest decrease that counts as an improvement. */
  minDelta: number;
  /** Copies of the weights at the best epoch (restored at the end by `restore`); omit to keep the last weights. */
  snapshot?: () => tf.Tensor[];
  /** Puts a snapshot back. */
  restore?: (weights: tf.Tensor[]) => void;
}

/** Options of {@link runTrainingLoop}. */
export interface TrainLoopOptions {
  /** Examples in the training set. */
  count: number;
  /** Examples per step (the last step of an epoch may be smaller). */
  batchSize: number;
  /** Passes over the data. */
  epochs: number;
  /** Seed of the per-epoch permutation (and of `LoopBatch.rng`). */
  seed: number;
  /** Whether to shuffle every epoch; `false` visits the examples in order. */
  shuffle?: boolean;
  /** Steps between read-backs of the step metrics (>= 1); the epoch's last step always reads back. */
  readEvery?: number;
  /** `'examples'`: epoch loss = sum(loss_b * size_b) / n; `'steps'`: the mean of the step losses. */
  lossMean?: 'examples' | 'steps';
  /** Trains on one batch; `null` when nothing was trained (no loss). */
  step: (batch: LoopBatch) => LoopStepResult | null | Promise<LoopStepResult | null>;
  /**
   * Receives every step's metrics, in order; returning `true` stops training at that step (steps already run in
   * the same read-back window are not reported; the epoch's record covers the steps up to it).
   */
  onStep?: (metrics: LoopStepMetrics) => unknown;
  /** Scores the model after an epoch's steps. */
  validate?: (epoch: number) => Promise<Record<string, number>>;
  /** Called with each epoch's record; returning `true` stops training after it. */
  onEpoch?: (record: LoopEpoch) => boolean | undefined | Promise<boolean | undefined>;
  /** Stops when `value` has not improved for `patience` epochs. */
  earlyStopping?: LoopEarlyStopping;
}

/** What {@link runTrainingLoop} returns. */
export interface LoopResult {
  /** One record per epoch run. */
  epochs: LoopEpoch[];
  /** Steps run. */
  steps: number;
  /** Whether early stopping (or `onEpoch`) ended training before `epochs`. */
  stoppedEarly: boolean;
  /** The epoch whose weights the model holds at the end (1-based; the best one when a snapshot was restored). */
  bestEpoch: number;
  /** Seconds of all training steps. */
  trainSeconds: number;
}

interface Pending {
  step: number;
  size: number;
  loss: tf.Scalar;
  correct?: tf.Scalar;
}

/**
 * Runs a training loop (see the module comment). The caller's step owns the model and optimizer; the loop owns
 * the order of the examples, the read-backs, the epoch records and early stopping. No tensor is left behind: the
 * step's scalars are disposed after they are read, also when a step or a callback throws.
 *
 * @example
 * ```ts
 * const result = await runTrainingLoop({
 *   count: 1000, batchSize: 32, epochs: 2, seed: 1, readEvery: 10,
 *   step: ({ indices }) => ({ loss: myStep(indices) }),
 * });
 * result.epochs[1].loss;
 * ```
 */
export async function runTrainingLoop(options: TrainLoopOptions): Promise<LoopResult> {
  const { count: n, batchSize, epochs } = options;
  const readEvery = Math.max(1, Math.floor(options.readEvery ?? 1));
  const shuffle = options.shuffle ?? true;
  const byExamples = (options.lossMean ?? 'examples') === 'examples';
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const total = stepsPerEpoch * epochs;
  const rng = new Rng(options.seed);
  const inOrder = shuffle ? undefined : Int32Array.from({ length: n }, (_, i) => i);
  const result: LoopResult = { epochs: [], steps: 0, stoppedEarly: false, bestEpoch: 0, trainSeconds: 0 };
  const es = options.earlyStopping;
  let best = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let sinceBest = 0;
  let snapshot: tf.Tensor[] | undefined;
  let pending: Pending[] = [];
  let stop = false;
  const disposePending = (): void => {
    for (const p of pending) {
      p.loss.dispose();
      p.correct?.dispose();
    }
    pending = [];
  };
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const t0 = performance.now();
      const order = inOrder ?? Int32Array.from(rng.permutation(n));
      let lossSum = 0;
      let correctSum = 0;
      let hasCorrect = false;
      let steps = 0;
      let counted = 0;
      let read = 0;
      const flush = async (): Promise<void> => {
        const batch = pending;
        const values = await Promise.all(
          batch.map((p) =>
            Promise.all([p.loss.data(), p.correct === undefined ? undefined : p.correct.data()]),
          ),
        );
        disposePending();
        for (let i = 0; i < batch.length; i++) {
          const p = batch[i];
          const loss = values[i][0][0];
          const correct = values[i][1]?.[0];
          lossSum += byExamples ? loss * p.size : loss;
          if (correct !== undefined) {
            hasCorrect = true;
            correctSum += correct;
          }
          counted += p.size;
          read++;
          const halt = options.onStep?.({
            epoch,
            step: p.step,
            done: (epoch - 1) * stepsPerEpoch + p.step + 1,
            total,
            size: p.size,
            loss,
            acc: correct === undefined ? undefined : correct / p.size,
          });
          if (halt === true) {
            stop = true;
            break;
          }
        }
      };
      for (let s = 0; s < stepsPerEpoch; s++) {
        const indices = order.subarray(s * batchSize, Math.min(n, (s + 1) * batchSize));
        const out = await options.step({ epoch, step: s, indices, rng });
        result.steps++;
        steps++;
        if (out !== null)
          pending.push({ step: s, size: indices.length, loss: out.loss, correct: out.correct });
        if (pending.length >= readEvery || s === stepsPerEpoch - 1) await flush();
        if (stop) break;
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      result.trainSeconds += trainSeconds;
      const record: LoopEpoch = {
        epoch,
        loss: lossSum / (byExamples ? (stop ? counted : n) : stop ? read : stepsPerEpoch),
        steps,
        trainSeconds,
      };
      if (hasCorrect) record.acc = correctSum / (stop ? counted : n);
      if (options.validate !== undefined) record.validation = await options.validate(epoch);
      result.epochs.push(record);
      if (stop) {
        result.stoppedEarly = true;
        break;
      }
      if (es !== undefined) {
        const value = es.value(record);
        if (bestEpoch === 0 || value < best - es.minDelta) {
          best = value;
          bestEpoch = epoch;
          sinceBest = 0;
          if (es.snapshot !== undefined) {
            for (const t of snapshot ?? []) t.dispose();
            snapshot = es.snapshot();
          }
        } else if (++sinceBest > es.patience) {
          result.stoppedEarly = epoch < epochs;
          if (options.onEpoch !== undefined) await options.onEpoch(record);
          break;
        }
      }
      if (options.onEpoch !== undefined && (await options.onEpoch(record)) === true) {
        result.stoppedEarly = epoch < epochs;
        break;
      }
    }
    result.bestEpoch = result.epochs.length;
    if (snapshot !== undefined && es?.restore !== undefined && bestEpoch !== result.epochs.length) {
      es.restore(snapshot);
      result.bestEpoch = bestEpoch;
    }
  } finally {
    disposePending();
    for (const t of snapshot ?? []) t.dispose();
  }
  return result;
}
