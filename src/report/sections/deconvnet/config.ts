/**
 * The deconvnet section's settings per mode and the shape of its results (Zeiler & Fergus 2013 on the reference CNN,
 * on digit scenes, and on the pretrained MobileNetV2).
 *
 * @module
 */
import type { ReportMode } from '../../types.js';
import {
  type MobilenetDeconvConfig,
  type MobilenetDeconvResult,
  mobilenetDeconvConfig,
} from './mobilenet.js';

/** The scene part's settings: the scene classifier and the occlusion experiment (section 4.2). */
export interface SceneConfig {
  /** Side of the square scenes (px). */
  canvas: number;
  /** Digit sizes (px) in the scenes. */
  minScale: number;
  maxScale: number;
  /** Clutter: strokes and digit fragments per scene. */
  strokes: number;
  fragments: number;
  /** Training and test scenes (one digit each). */
  train: number;
  test: number;
  /** Scene seeds: training scenes `seed + trainSeed`, test scenes `seed + testSeed`. */
  trainSeed: number;
  testSeed: number;
  /**
   * The copied part: the reference CNN's stages up to this layer, copied by `LayerTransfer` and frozen; the
   * classifier reads the copy's activations at `cut`.
   */
  copy: string;
  /** The layer of the copy whose output feeds the new head (the last layer of the copied stages). */
  cut: string;
  /** Filters of the new head's convolution (3x3, ReLU), followed by global max pooling and a dense layer. */
  headFilters: number;
  /** Training of the new head. */
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Occluder side (px) and stride. */
  occluder: number;
  stride: number;
  /** Channels of the head's convolution shown as top-9 grids. */
  topChannels: number;
}

/** The section's settings in one mode. */
export interface DeconvnetConfig {
  /** MNIST test digits scanned for the fig.-2 grids. */
  scanned: number;
  /** Layers of the reference CNN and how many of their channels get a top-9 grid. */
  layers: { layer: string; shown: number }[];
  /** Test digits of the strategies figure and the digit occlusion figure. */
  samples: number;
  /** Occlusion on digits: occluder side, stride, the feature map shown. */
  digitOcclusion: { size: number; stride: number; layer: string };
  scenes: SceneConfig;
  /**
   * The claim's interval: a seeded percentile bootstrap over the test scenes of (peak inside the box) minus (the
   * scene's chance of that), paired per scene.
   */
  bootstrap: { seed: number; resamples: number };
  /** The pretrained MobileNetV2 part. */
  mobilenet: MobilenetDeconvConfig;
}

/**
 * The settings. `quick`: 1,000 digits scanned, 16 channels per layer, a scene classifier trained 6 epochs on 3,000
 * 40x40 scenes, occlusion on 200 test scenes; `full`: 2,000 digits, 32 channels, 10 epochs on 6,000 scenes, 400 test
 * scenes. The claim's interval is over test scenes (one trained classifier per run: it says how much the share would
 * move with another draw of scenes, not with another training seed).
 *
 * @example
 * ```ts
 * deconvnetConfig('quick').scenes.test; // 200
 * ```
 */
export function deconvnetConfig(mode: ReportMode): DeconvnetConfig {
  const full = mode === 'full';
  return {
    scanned: full ? 2000 : 1000,
    layers: [
      { layer: 'conv1', shown: 16 },
      { layer: 'conv2', shown: full ? 32 : 16 },
      { layer: 'fc1', shown: full ? 32 : 16 },
    ],
    samples: 6,
    digitOcclusion: { size: 8, stride: 2, layer: 'conv2' },
    scenes: {
      canvas: 40,
      minScale: 20,
      maxScale: 30,
      strokes: 2,
      fragments: 1,
      train: full ? 6000 : 3000,
      test: full ? 400 : 200,
      trainSeed: 41,
      testSeed: 42,
      copy: 'conv2',
      cut: 'pool2',
      headFilters: 64,
      epochs: full ? 10 : 6,
      batchSize: 64,
      learningRate: 2e-3,
      occluder: 10,
      stride: 3,
      topChannels: full ? 32 : 16,
    },
    bootstrap: { seed: 23, resamples: 2000 },
    mobilenet: mobilenetDeconvConfig(mode),
  };
}

/** One layer's fig.-2 grid. */
export interface LayerFigure {
  layer: string;
  channels: number;
  shown: number;
  receptiveField: [number, number];
  png: string;
  /** Mean top-1 activation over the shown channels. */
  meanTop: number;
}

/** Per test scene of the occlusion experiment (absent in results cached by version 2). */
export interface ScenePoints {
  /** 1 when the occluder position that lowers the correct class's probability most has its centre in the box. */
  inside: number[];
  /** The share of occluder positions whose centre lies in the box (the chance of `inside` for a random position). */
  chance: number[];
  /** 1 when the classifier got the scene right without occlusion. */
  correct: number[];
}

/** The JSON results of the section. */
export interface DeconvnetSectionResult {
  mode: 'quick' | 'full';
  backend: string;
  seconds: number;
  mnist: {
    scanned: number;
    testAccuracy: number;
    layers: LayerFigure[];
    topKSeconds: number;
    strategiesPng: string;
    occlusionPng: string;
    occlusionSamples: number;
    /** Mean over samples of (baseline - lowest probability). */
    meanDrop: number;
  };
  scenes: {
    canvas: number;
    train: number;
    test: number;
    epochs: number;
    accuracy: number;
    occluder: number;
    stride: number;
    /** Fraction of test scenes whose strongest drop (occluder centre) lies inside the object's box. */
    insideBox: number;
    /** The same among correctly classified scenes. */
    insideBoxCorrect: number;
    correct: number;
    /** Expected fraction if the lowest position were random (mean share of positions whose centre is in the box). */
    chance: number;
    meanDrop: number;
    occlusionPng: string;
    topPng: string;
    /** The per-scene values the interval resamples. */
    perScene?: ScenePoints;
    /** How the classifier's copied layers were made (absent in results cached by version 2). */
    copiedLayers?: string[];
    /** Whether the scene classifier came from the report's model cache. */
    fromCache?: boolean;
  };
  /** The settings of the run (absent in results cached by version 2). */
  config?: DeconvnetConfig;
  /** Top-9 grids of the pretrained MobileNetV2 (absent in results cached before it was added). */
  mobilenet?: MobilenetDeconvResult;
}
