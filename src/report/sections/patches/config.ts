/**
 * The patches section's settings per mode and the shape of its results (Oquab et al. 2014: multi-scale patches and
 * transfer to cluttered scenes, on synthetic multi-digit scenes).
 *
 * @module
 */
import type { Interval } from '../../stats.js';
import type { ReportMode } from '../../types.js';

/** The section's settings in one mode. */
export interface PatchesConfig {
  /** Side of the square scenes (px). */
  canvas: number;
  /** Training and test scenes. */
  trainScenes: number;
  testScenes: number;
  /** Digits per scene and their sizes (px). */
  minObjects: number;
  maxObjects: number;
  minScale: number;
  maxScale: number;
  /** The patch grid: number of scales, the smallest patch side as a share of the canvas, neighbour overlap. */
  scales: number;
  smallest: number;
  overlap: number;
  /** Oquab's adaptation block (FCa units, dropout between FCa and FCb) and its Adam learning rate. */
  hiddenUnits: number;
  dropout: number;
  learningRate: number;
  /** The patch model: epochs, batch size, background patches kept per positive patch. */
  patchEpochs: number;
  patchBatch: number;
  backgroundRatio: number;
  /** The whole-image model: epochs and batch size. */
  wholeEpochs: number;
  wholeBatch: number;
  /** k of the power mean that turns patch scores into image scores (Oquab: 5). */
  power: number;
  /** Patches per forward pass when scoring test scenes. */
  predictBatch: number;
  /**
   * The claim's interval: a seeded percentile bootstrap over the test scenes, resampling scenes and recomputing both
   * models' mAP on each resample (paired).
   */
  bootstrap: { seed: number; resamples: number };
}

/**
 * The settings. `quick`: 300 training and 150 test scenes, 6 scales down to 22% of the canvas, 3 patch epochs and 40
 * whole-image epochs; `full`: 1,200 / 500 scenes, 8 scales down to 12.5%, 4 and 60 epochs. The interval uses 1,000
 * resamples (each recomputes 20 average precisions).
 *
 * @example
 * ```ts
 * patchesConfig('quick').testScenes; // 150
 * ```
 */
export function patchesConfig(mode: ReportMode): PatchesConfig {
  const quick = mode === 'quick';
  return {
    canvas: 96,
    trainScenes: quick ? 300 : 1200,
    testScenes: quick ? 150 : 500,
    minObjects: 1,
    maxObjects: 3,
    minScale: 24,
    maxScale: 48,
    scales: quick ? 6 : 8,
    smallest: quick ? 0.22 : 0.125,
    overlap: 0.5,
    hiddenUnits: 256,
    dropout: 0.2,
    learningRate: 3e-3,
    patchEpochs: quick ? 3 : 4,
    patchBatch: 64,
    backgroundRatio: 1,
    wholeEpochs: quick ? 40 : 60,
    wholeBatch: 32,
    power: 5,
    predictBatch: 512,
    bootstrap: { seed: 29, resamples: 1000 },
  };
}

/** Per-class AP and mAP of one way of scoring the test scenes. */
export interface ScoredMethod {
  /** Name shown in the table. */
  name: string;
  /** Average precision of each digit (NaN when the digit never occurs in the test scenes). */
  ap: number[];
  /** Mean of the defined APs. */
  map: number;
}

/** One sample scene for the figures. */
export interface PatchSample {
  /** SVG of the scene with its objects and its positive patches. */
  gridSvg: string;
  /** Localisation maps (PNG data URIs) of up to two of the digits present, with their power-mean scores. */
  maps: { digit: number; png: string; score: number }[];
  /** The digits present. */
  truth: number[];
  /** The three digits with the highest power-mean scores. */
  ranked: number[];
}

/** The claim's intervals (bootstrap over test scenes). */
export interface PatchesIntervals {
  /** mAP of the patch model (power mean). */
  patches: Interval;
  /** mAP of the whole-image model. */
  whole: Interval;
  /** Patch model minus whole-image model, paired per resample: the verdict's interval. */
  gain: Interval;
}

/** The JSON result of the section. */
export interface PatchesResult {
  mode: 'quick' | 'full';
  seconds: number;
  canvas: number;
  trainScenes: number;
  testScenes: number;
  grid: { patches: number; sizes: number[]; minOverlap: number; coverage: number; density: number };
  labels: { positives: number; background: number; dropped: number; backgroundKeptPerEpoch: number };
  source: { digits: number; epochs: number; testAccuracy: number };
  training: {
    patchEpochs: number;
    patchSteps: number;
    wholeEpochs: number;
    wholeSteps: number;
    patchLoss: number[];
    wholeLoss: number[];
  };
  methods: ScoredMethod[];
  /** mAP of a random ranking (the mean prevalence of the digits in the test scenes). */
  chanceMap: number;
  samples: PatchSample[];
  /** Adaptation head built with LayerTransfer (true) or directly (false). */
  usedLayerTransfer: boolean;
  /** Which average precision was used. */
  apSource: string;
  /** The settings of the run (absent in results cached by version 1). */
  config?: PatchesConfig;
  /** The claim's intervals (absent in results cached by version 1). */
  intervals?: PatchesIntervals;
  /** Whether the two trained models came from the report's model cache. */
  fromCache?: boolean;
}
