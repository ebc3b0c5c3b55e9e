/**
 * The foundation section's settings per mode and the shape of its results: the reference CNN on MNIST (its recipe
 * is {@link referenceCnnConfig}, shared with every section that uses the model).
 *
 * @module
 */
import type { TileRect } from '../../../index.js';
import { type ReferenceCnnConfig, referenceCnnConfig } from '../../shared.js';
import type { ReportMode } from '../../types.js';

/** The section's settings in one mode. */
export interface FoundationConfig {
  /** The reference CNN's recipe (from {@link referenceCnnConfig}). */
  cnn: ReferenceCnnConfig;
  /** Test digits shown with their predictions. */
  samples: number;
  /** Test digits per forward pass when predicting. */
  predictBatch: number;
  /** The claim's threshold: the test accuracy a small CNN should reach on these digits. */
  threshold: number;
  /** Seed and number of resamples of the bootstrap over test digits (the claim's interval). */
  bootstrap: { seed: number; resamples: number };
}

/**
 * The settings: the same in both modes apart from the CNN's recipe (quick 2 epochs, full 8). The claim's interval
 * is a percentile bootstrap over the test digits (2,000 resamples): it says how much the accuracy would move with
 * another draw of test digits, not with another training seed (the model is trained once per run and shared).
 *
 * @example
 * ```ts
 * foundationConfig('quick').cnn.epochs; // 2
 * ```
 */
export function foundationConfig(mode: ReportMode): FoundationConfig {
  return {
    cnn: referenceCnnConfig(mode),
    samples: 32,
    predictBatch: 500,
    threshold: 0.95,
    bootstrap: { seed: 17, resamples: 2000 },
  };
}

/** The JSON results of the foundation section. */
export interface FoundationResult {
  backend: string;
  trainSize: number;
  testSize: number;
  config: ReferenceCnnConfig;
  /** The section's settings (absent in results cached before the interval was added). */
  settings?: FoundationConfig;
  params: number;
  layers: { name: string; className: string; outputShape: string; params: number }[];
  history: { epoch: number; loss: number; acc: number; valLoss?: number; valAcc?: number; seconds: number }[];
  curve: { examples: number; loss: number; acc: number }[];
  trainSeconds: number;
  examplesPerSecond: number;
  fromCache: boolean;
  test: { loss: number; accuracy: number };
  perClassAccuracy: number[];
  /** Counts of test digits by true (row) and predicted (column) class. */
  confusion: number[][];
  samples: {
    png: string;
    width: number;
    height: number;
    tiles: TileRect[];
    labels: string[];
    wrong: boolean[];
  };
}
