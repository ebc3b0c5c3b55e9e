/**
 * The transfer section's recipe per mode and the shape of its results (Yosinski et al. 2014, on digits and
 * clothes).
 *
 * @module
 */
import type { TransferKind, TransferResults, ZeilerFergusCnnOptions } from '../../../index.js';
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
  /**
   * Treatments trained on the dissimilar split: its B-side networks (baseB, BnB, BnB+) are the similar split's
   * (same B, seeds and training), so only A-side ones are listed.
   */
  dissimilarKinds: TransferKind[];
}

/**
 * The settings. Both modes use a 7-stage CNN, n = 1..6: conv 5x5x8 - pool - conv 3x3x16 - pool - fc 64 x4 - head
 * (no batch normalisation, no dropout). `quick`: 600 images per class (450 training), 2 epochs of Adam 3e-3 at
 * batch 32, 4 seeds, AnB only on the dissimilar split (164 s of CPU measured). The recipe was chosen on a dev split
 * carved from the training part (scripts/transfer-dev.ts, scripts/transfer-dev-results.jsonl): Adam 1e-2 (the old
 * setting) or one epoch left baseB under-trained, so BnB gained on it from its extra epochs. `full`: 800 per class
 * (the most the `mnist` package has for every digit of B), 3 epochs, 5 seeds, AnB and AnB+ on both splits (~450-500 s
 * of CPU).
 *
 * @example
 * ```ts
 * transferSectionConfig('quick').seeds; // 4
 * ```
 */
export function transferSectionConfig(mode: ReportMode): TransferSectionConfig {
  const full = mode === 'full';
  return {
    perClass: full ? 800 : 600,
    testFraction: 0.25,
    architecture: {
      inputShape: [28, 28, 1],
      filters: [8, 16],
      kernelSizes: [5, 3],
      hidden: [64, 64, 64, 64],
    },
    epochs: full ? 3 : 2,
    batchSize: 32,
    learningRate: 0.003,
    seeds: full ? 5 : 4,
    clothes: [0, 1, 2, 3, 4],
    dissimilarKinds: full ? ['AnB', 'AnB+'] : ['AnB'],
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
  /** Networks trained (each once: the dissimilar split's B side is the similar split's). */
  networks: number;
}
