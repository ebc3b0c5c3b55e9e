/**
 * The features section's recipe per mode and the shape of its results: off-the-shelf CNN features (Donahue et al.
 * 2014, DeCAF; Razavian et al. 2014) on Fashion-MNIST, as a curve over labelled examples per class.
 *
 * @module
 */
import type { NormMode } from '../../../index.js';
import type { ReportMode } from '../../types.js';

/** The recipe of the section in one mode. */
export interface FeaturesConfig {
  /** Fashion-MNIST images kept per class before the train/test split (the split the specialists section shares). */
  limitPerClass: number;
  /** Fraction of each class held out as the test part. */
  testFraction: number;
  /** Images per class drawn once from the training part: the candidates the labelled examples are drawn from. */
  poolPerClass: number;
  /** Images per class drawn from the training part apart from the pool: the development split that chooses C. */
  devPerClass: number;
  /** Test images per class (from the test part, which chooses nothing). */
  testPerClass: number;
  /** Labelled examples per class: the points of the curve. */
  sizes: number[];
  /** Draws of the labelled examples (seeds); the intervals are over these. */
  seeds: number;
  /** The digit CNN's layers read for the depth table; `curveLayer` is the one on the curve (fixed in advance). */
  digitLayers: string[];
  /** The digit CNN layer on the curve. */
  curveLayer: string;
  /** Side the 28x28 images are stretched to (bilinear) for MobileNetV2; its average pool is sized to match. */
  mobilenetInput: number;
  /** Candidate SVM costs C, one chosen per feature set on the development split (at `devSize` per class). */
  cGrid: number[];
  /** Labelled examples per class (drawn from the pool) used to fit the SVMs scored on the development split. */
  devSize: number;
  /** Normalisations of the MobileNetV2 features compared at `normSize` per class (Razavian's switch). */
  norms: NormMode[];
  /** Labelled examples per class of the normalisation table. */
  normSize: number;
  /** The from-scratch CNN (the reference CNN's architecture): Adam learning rate, batch size, gradient steps. */
  scratch: { learningRate: number; batchSize: number; steps: number };
}

/**
 * `quick`: 70 candidate images per class, 50 test images per class, 1, 5, 10 and 50 labelled examples per class (200
 * is full mode only), 3 draws, MobileNetV2 at 96x96 (the 28x28 images stretched 3.4x; 224x224 costs ~10x more CPU
 * per image here). `full`: 400 candidates, 300 test images per class, 1-200 per class, 5 draws, MobileNetV2 at
 * 224x224. Everything else (the SVM's C grid, the from-scratch CNN's recipe, the layer on the curve) was fixed
 * before any result on Fashion-MNIST was seen; C is then chosen per feature set on the development split, never on
 * the test part.
 *
 * @example
 * ```ts
 * featuresConfig('quick').sizes; // [1, 5, 10, 50]
 * ```
 */
export function featuresConfig(mode: ReportMode): FeaturesConfig {
  const full = mode === 'full';
  return {
    limitPerClass: full ? 7000 : 2500,
    testFraction: 1 / 7,
    poolPerClass: full ? 400 : 70,
    devPerClass: full ? 50 : 20,
    testPerClass: full ? 300 : 50,
    sizes: full ? [1, 5, 10, 50, 200] : [1, 5, 10, 50],
    seeds: full ? 5 : 3,
    digitLayers: ['pool2', 'fc1'],
    curveLayer: 'pool2',
    mobilenetInput: full ? 224 : 96,
    cGrid: [0.1, 1, 10, 100],
    devSize: 10,
    norms: ['none', 'l2', 'power'],
    normSize: 10,
    scratch: { learningRate: 2e-3, batchSize: 32, steps: full ? 300 : 60 },
  };
}

/** One feature set (or the from-scratch CNN) over the curve. */
export interface FeatureSeries {
  /** Stable id: `'pixels'`, `'digit:<layer>'`, `'mobilenet'`, `'scratch'`. */
  id: string;
  /** Legend name. */
  label: string;
  /** Feature dimension (null for the from-scratch CNN). */
  dim: number | null;
  /** The SVM cost chosen on the development split (null for the from-scratch CNN). */
  C: number | null;
  /** Development-split accuracy of each C in the grid (empty for the from-scratch CNN). */
  devAccuracy: number[];
  /** Test accuracy, `acc[sizeIndex][seed]`. */
  acc: number[][];
}

/** The JSON results of the section. */
export interface FeaturesResult {
  mode: ReportMode;
  backend: string;
  config: FeaturesConfig;
  /** Class names by label. */
  classNames: string[];
  /** Images used: candidate pool, development split, test. */
  counts: { pool: number; dev: number; test: number };
  /** The digit CNN (the report's reference CNN, trained on MNIST digits): its MNIST test accuracy. */
  digitCnn: { mnistAccuracy: number; fromCache: boolean };
  /** MobileNetV2 as loaded, or why it was skipped. */
  mobilenet: { featureLayer: string; inputSize: number; msPerImage: number } | { skipped: string };
  /** The curve: pixels, the digit CNN at `curveLayer`, MobileNetV2, the from-scratch CNN. */
  curve: FeatureSeries[];
  /** Every tapped layer of the digit CNN over the same draws (depth). */
  depth: FeatureSeries[];
  /** MobileNetV2 at `normSize` per class with each normalisation: accuracy per seed (empty when skipped). */
  norms: { norm: NormMode; C: number; acc: number[] }[];
  /** CPU seconds (user + system) of the parts of the run. */
  cpu: { referenceCnn: number; extraction: number; classifiers: number; scratch: number; total: number };
  /** Wall-clock seconds of the section. */
  seconds: number;
}
