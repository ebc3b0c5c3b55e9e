/**
 * The transfer section's recipe per mode and the shape of its results (Yosinski et al. 2014, on digits and
 * clothes).
 *
 * @module
 */
import type { TransferResults, ZeilerFergusCnnOptions } from '../../../index.js';
import type { ReportMode } from '../../types.js';

/** The experiment's settings in one mode. */
export interface TransferSectionConfig {
  /** Images drawn per class (digits and clothes) before the split (train + test). */
  perClass: number;
  /** Fraction of each class held out for testing. */
  testFraction: number;
  /** Architecture of every network (numClasses and seed are set per network). */
  architecture: ZeilerFergusCnnOptions;
  /** Epochs of every network. */
  epochs: number;
  /** Mini-batch size. */
  batchSize: number;
  /** Adam learning rate of every network (and of the copied layers in AnB+/BnB+). */
  learningRate: number;
  /** Number of seeds (repeats); the seeds are the same in both splits, so they pair up. */
  seeds: number;
  /** The Fashion-MNIST classes of the dissimilar task A (labels 0-9 of Fashion-MNIST). */
  clothes: number[];
}

/**
 * The settings. `quick`: the report's reference CNN at half width (conv 5x5x8 - pool - conv 3x3x16 - pool - fc 64 -
 * head: 4 stages, n = 1..3), 400 images per class, one epoch, 3 seeds (2 splits x 3 seeds x 14 networks, ~40 s of
 * CPU). A 7-stage net (conv 3x3 x3, fc x3; n = 1..6) was tried in quick mode and left its bases under-trained after
 * one epoch (baseB 49-64%), so it is the `full` setting: 16-32-32 filters, fc 64-64-64, 600 per class, 3 epochs,
 * 5 seeds (not measured).
 *
 * @example
 * ```ts
 * transferSectionConfig('quick').seeds; // 3
 * ```
 */
export function transferSectionConfig(mode: ReportMode): TransferSectionConfig {
  const full = mode === 'full';
  return {
    perClass: full ? 600 : 400,
    testFraction: 0.25,
    architecture: full
      ? { inputShape: [28, 28, 1], filters: [16, 32, 32], kernelSizes: [3, 3, 3], hidden: [64, 64, 64] }
      : { inputShape: [28, 28, 1], filters: [8, 16], kernelSizes: [5, 3], hidden: [64] },
    epochs: full ? 3 : 1,
    batchSize: 32,
    learningRate: 0.01,
    seeds: full ? 5 : 3,
    clothes: [0, 1, 2, 3, 4],
  };
}

/** One class split's experiment. */
export interface TransferSplitOutcome {
  /** `'similar'` (digits 0-4 -> digits 5-9) or `'dissimilar'` (clothes -> digits 5-9). */
  name: 'similar' | 'dissimilar';
  /** What A is, in words. */
  taskA: string;
  /** The experiment's results (every run). */
  results: TransferResults;
}

/** The JSON result of the section. */
export interface TransferSectionResult {
  mode: ReportMode;
  backend: string;
  seconds: number;
  config: TransferSectionConfig;
  /** Training / test images per task. */
  trainPerTask: number;
  testPerTask: number;
  /** Name of the weight-bearing layer that ends each stage n = 1..stages. */
  stageNames: string[];
  /** The similar split first, then the dissimilar one; task B (digits 5-9) is the same in both. */
  splits: TransferSplitOutcome[];
  /** Median wall time of one network's training + evaluation, in seconds. */
  medianRunSeconds: number;
}
