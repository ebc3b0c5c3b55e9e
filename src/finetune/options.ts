/**
 * The options of {@link finetune}: defaults and checks, all done before any tensor is allocated.
 *
 * @module
 */
import {
  checkInRange,
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { OPTIMIZER_KINDS } from '../transfer/grouped-optimizer.js';
import { type ResolvedAugment, resolveFinetuneAugment } from './augment.js';
import type { FinetuneOptions } from './types.js';

const FN = 'finetune';

/** The options of {@link finetune} with their defaults filled in and checked. */
export interface Resolved {
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

/** Fills in the defaults of `options` and checks every field (typed errors naming `finetune`). */
export function resolveOptions(options: FinetuneOptions): Resolved {
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
