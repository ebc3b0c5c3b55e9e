/**
 * Argument checks and data helpers of {@link Distiller.fit}, apart from its training loop.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkInRange,
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkTensor,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { checkLabelVector } from './bias.js';
import type { Distiller } from './distiller.js';
import type { DistillerFitOptions, EarlyStoppingOptions } from './distiller-types.js';

/** The options of {@link Distiller.fit} with their defaults, checked. */
export interface ResolvedFitOptions {
  /** Number of examples. */
  n: number;
  /** Passes over the transfer set. */
  epochs: number;
  /** Examples per step. */
  batchSize: number;
  /** Translation jitter in pixels. */
  jitter: number;
  /** Seed of the shuffling and the jitter. */
  seed: number;
  /** Early stopping, when set. */
  es: EarlyStoppingOptions | undefined;
}

/** The known keys of {@link EarlyStoppingOptions}. */
const EARLY_STOPPING_OPTION_KEYS = knownKeys<EarlyStoppingOptions>({
  monitor: true,
  patience: true,
  minDelta: true,
  restoreBest: true,
});

/** The known keys of {@link DistillerFitOptions}. */
const DISTILLER_FIT_OPTION_KEYS = knownKeys<DistillerFitOptions>({
  labels: true,
  epochs: true,
  batchSize: true,
  jitter: true,
  seed: true,
  validation: true,
  earlyStopping: true,
  onProgress: true,
});

/**
 * Checks `x` and the options of {@link Distiller.fit} before anything is allocated (labels are range-checked
 * later, once the class count is known).
 */
export function checkFitOptions(
  fn: string,
  x: tf.Tensor,
  options: DistillerFitOptions,
  alpha: number,
): ResolvedFitOptions {
  checkTensor(fn, 'x', x);
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, DISTILLER_FIT_OPTION_KEYS);
  const n = x.shape[0] as number;
  if (n < 1) throw new ShapeMismatchError(fn, 'x', 'at least one example', x.shape);
  const epochs = opts.epochs ?? 10;
  checkInteger(fn, 'options.epochs', epochs, 1);
  const batchSize = opts.batchSize ?? 128;
  checkInteger(fn, 'options.batchSize', batchSize, 1);
  const jitter = opts.jitter ?? 0;
  checkInteger(fn, 'options.jitter', jitter, 0);
  if (jitter > 0 && x.rank !== 4) {
    throw new ShapeMismatchError(fn, 'x', 'NHWC images [N, H, W, C] when jitter > 0', x.shape);
  }
  const seed = opts.seed ?? 0;
  checkInteger(fn, 'options.seed', seed);
  if (opts.labels !== undefined) checkLabelVector(fn, 'options.labels', opts.labels, n);
  else if (alpha < 1) {
    throw new InvalidArgumentError(
      fn,
      'options.labels',
      'labels of the transfer set when alpha < 1 (or set alpha: 1)',
      undefined,
    );
  }
  if (opts.validation !== undefined) {
    checkOptions(fn, 'options.validation', opts.validation);
    checkTensor(fn, 'options.validation.x', opts.validation.x);
    checkLabelVector(
      fn,
      'options.validation.labels',
      opts.validation.labels,
      opts.validation.x.shape[0] as number,
    );
  }
  const es =
    opts.earlyStopping === undefined
      ? undefined
      : checkOptions(fn, 'options.earlyStopping', opts.earlyStopping);
  checkOptionKeys(fn, 'options.earlyStopping', es, EARLY_STOPPING_OPTION_KEYS);
  if (es !== undefined) {
    if (opts.validation === undefined) {
      throw new InvalidArgumentError(
        fn,
        'options.validation',
        'validation data when earlyStopping is set',
        undefined,
      );
    }
    checkOneOf(fn, 'options.earlyStopping.monitor', es.monitor ?? 'error', ['error', 'loss'] as const);
    checkInteger(fn, 'options.earlyStopping.patience', es.patience ?? 5, 0);
    checkInRange(fn, 'options.earlyStopping.minDelta', es.minDelta ?? 0, 0, Infinity);
  }
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') {
    throw new InvalidArgumentError(fn, 'options.onProgress', 'a function', opts.onProgress);
  }
  return { n, epochs, batchSize, jitter, seed, es };
}

/** The number of classes of a tfjs-layers model's (single) output, when known. */
export function outputClasses(model: unknown): number | undefined {
  const outputs = (model as { outputs?: { shape: (number | null)[] }[] }).outputs;
  if (!Array.isArray(outputs) || outputs.length !== 1) return undefined;
  const last = outputs[0].shape[outputs[0].shape.length - 1];
  return typeof last === 'number' ? last : undefined;
}

/** Classes with no example: from the labels if given, else from the teacher's argmax. */
export async function absentClasses(
  labels: Int32Array | undefined,
  q: tf.Tensor2D | undefined,
  k: number | undefined,
): Promise<number[]> {
  if (k === undefined) return [];
  const seen = new Array<boolean>(k).fill(false);
  if (labels !== undefined) {
    for (const y of labels) seen[y] = true;
  } else if (q !== undefined) {
    const am = tf.argMax(q, 1);
    try {
      for (const y of await am.data()) seen[y] = true;
    } finally {
      am.dispose();
    }
  } else {
    return [];
  }
  return seen.flatMap((s, c) => (s ? [] : [c]));
}
