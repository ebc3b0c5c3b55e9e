/**
 * The option and result types of {@link FeatureExtractor}: taps with their post-processing, the extractor's
 * options, the resolved taps and the image sources and options of `extractAll`. Types only; the class lives in
 * `extractor.ts`.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ProgressCallback } from '../core/types.js';
import type { NormMode, PoolMode, Standardizer } from './normalize.js';
import type { TapRef } from './taps.js';
import type { AugmentOptions, Preprocessing, ResizeMode } from './views.js';

/**
 * One tap with its own post-processing (fields left out take the extractor-wide defaults).
 *
 * @example
 * ```ts
 * new FeatureExtractor(model, { taps: [{ layer: 'conv2', pool: 'max' }, { layer: -2, normalize: 'l2' }] });
 * ```
 */
export interface TapOptions {
  /** The layer: name (or `'nested/inner'` path), index (negative from the end) or layer object; a node name for a
   * graph model. */
  layer: TapRef;
  /** Pooling of the activations. @default the extractor's `pool` */
  pool?: PoolMode;
  /** Normalisation after pooling (and after combining views). @default the extractor's `normalize` */
  normalize?: NormMode;
  /** Exponent of the signed power normalisation. @default the extractor's `powerAlpha` */
  powerAlpha?: number;
  /** Standardisation applied last (fit it with {@link FeatureExtractor.fitStandardizers}). @default none */
  standardizer?: Standardizer;
}

/**
 * A tap given by reference only, or with its own options.
 *
 * @example
 * ```ts
 * const taps: TapSpec[] = ['conv1', { layer: 'conv2', pool: 'avg' }];
 * ```
 */
export type TapSpec = TapRef | TapOptions;

/**
 * Options of a {@link FeatureExtractor}.
 *
 * @example
 * ```ts
 * const opts: FeatureExtractorOptions = { taps: ['conv2', 'fc1'], pool: 'avg', normalize: 'l2', resize: 'stretch' };
 * ```
 */
export interface FeatureExtractorOptions {
  /** The layers to read, in the order of the returned features (at least one). */
  taps: TapSpec | readonly TapSpec[];
  /** Default pooling of every tap: `'flatten'`, `'avg'` or `'max'` (global pooling of conv maps). @default 'flatten' */
  pool?: PoolMode;
  /** Default normalisation of every tap: `'none'`, `'l2'` or `'power'`. @default 'none' */
  normalize?: NormMode;
  /** Default exponent of the signed power normalisation. @default 0.5 */
  powerAlpha?: number;
  /** Size `[height, width]` the model takes. @default the model's input shape */
  inputSize?: readonly [number, number];
  /** How images of another size are adapted: `'stretch'`, `'center-crop'` or `'none'` (must match). @default 'stretch' */
  resize?: ResizeMode;
  /** Declared pixel preprocessing (scale, offset, per-channel mean/std), applied after resizing. @default identity */
  preprocess?: Preprocessing;
  /** Augmented views (crops and flips, Razavian et al.) whose features are combined; `false` for the image only.
   * @default false */
  augment?: AugmentOptions | false;
}

/**
 * A tap as the extractor resolved it.
 *
 * @example
 * ```ts
 * for (const t of fx.taps) console.log(t.name, t.dim, t.pool, t.normalize);
 * ```
 */
export interface ExtractorTap {
  /** Unique name of the tap (layer name or nested path; node name for graph models). */
  readonly name: string;
  /** The layer's class (the op for a graph node). */
  readonly className: string;
  /** Output shape of the layer, batch as `null` (`[]` when unknown, e.g. graph nodes). */
  readonly outputShape: readonly (number | null)[];
  /** Feature dimension after pooling (`null` when the layer's shape is unknown). */
  readonly dim: number | null;
  /** Pooling applied to the layer's activations. */
  readonly pool: PoolMode;
  /** Normalisation applied after pooling (and after combining views). */
  readonly normalize: NormMode;
  /** Exponent of the signed power normalisation (used when `normalize` is `'power'`). */
  readonly powerAlpha: number;
  /** The fitted standardisation, if any. */
  readonly standardizer: Standardizer | undefined;
}

/**
 * Where images come from for {@link FeatureExtractor.extractAll}.
 *
 * @example
 * ```ts
 * await fx.extractAll(function* (batchSize) { for (const b of myBatches(batchSize)) yield b; });
 * ```
 */
export type ImageSource =
  | tf.Tensor
  | readonly tf.Tensor[]
  | Iterable<tf.Tensor>
  | AsyncIterable<tf.Tensor>
  | ((batchSize: number) => Iterable<tf.Tensor> | AsyncIterable<tf.Tensor>);

/**
 * Options of {@link FeatureExtractor.extractAll}.
 *
 * @example
 * ```ts
 * await fx.extractAll(images, { memoryBudgetMB: 128, onProgress: (e) => console.log(e.done, e.total) });
 * ```
 */
export interface ExtractAllOptions {
  /** Images per forward pass. @default derived from `memoryBudgetMB` */
  batchSize?: number;
  /** Budget for the activations of one batch, in MiB: the batch size is the largest that fits (at least 1). @default 64 */
  memoryBudgetMB?: number;
  /** Largest batch size the budget may give. @default 256 */
  maxBatchSize?: number;
  /** Progress reports (`phase: 'extract'`, `done`/`total` in images). */
  onProgress?: ProgressCallback;
  /** Number of images when the source cannot tell (iterables, generators), for progress only. */
  total?: number;
  /** Keep the batches an iterable or generator yields (by default they are disposed once used). Tensors and arrays
   * passed directly are never disposed. @default false */
  keepBatches?: boolean;
}
