/**
 * One feature extraction job, described by plain JSON (`ExtractionSpec`: inputs, model, taps, processing; read by
 * `extraction-inputs.ts`) so that the same job runs from `transferkit features`, as a `--shard i/n` of it under any
 * runner, or as queue jobs (`transferkit/queue`). Whole or sharded, the rows, labels and metadata come out the same,
 * so that merged shards are byte-identical to the single-process file.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { shardRange } from '../features/shards.js';
import {
  type AugmentOptions,
  FeatureExtractor,
  type FeatureMatrix,
  InvalidArgumentError,
  type ProgressCallback,
  type ShardSpec,
} from '../index.js';
import {
  checkSpec,
  type ExtractionInputs,
  type ExtractionSpec,
  idxImage,
  inputFingerprint,
  type LoadedModel,
  listInputs,
  loadModelArg,
  readImageFile,
} from './extraction-inputs.js';

const FN = 'extractFeatures';

/**
 * The result of {@link extractFeatures}: the feature matrices of the rows `[start, end)` and the feature file's
 * labels and metadata for them, plus what a shard manifest records.
 */
export interface ExtractionResult {
  /** One matrix per tap, rows `[start, end)`. */
  matrices: FeatureMatrix[];
  /** Labels of the rows. */
  labels: number[];
  /** The feature file's metadata (`meta.files` holds the rows' ids). */
  meta: Record<string, unknown>;
  /** Metadata keys with one entry per row. */
  rowMeta: string[];
  /** The options that produced the features (for shard manifests). */
  options: Record<string, unknown>;
  /** `inputFingerprint` of the whole input. */
  source: string;
  /** Rows of the whole input. */
  total: number;
  /** First row extracted. */
  start: number;
  /** One past the last row extracted. */
  end: number;
}

/**
 * Options of {@link extractFeatures}.
 */
export interface ExtractFeaturesOptions {
  /** Extract only this shard's rows (see `shardRange`). @default the whole input */
  shard?: ShardSpec;
  /** An already loaded model for `spec.model` (a worker loads each model once). @default loaded from `spec.model` */
  loaded?: LoadedModel;
  /** Progress (`phase: 'extract'`, `done`/`total` in images of this call). */
  onProgress?: ProgressCallback;
  /** Inputs already listed for `spec`. @default listed with `listInputs` */
  inputs?: ExtractionInputs;
}

/**
 * Runs an extraction job: lists the inputs, takes the shard's rows (all rows by default), reads the images lazily
 * in batches sized by the memory budget, and extracts every tap in one forward pass per batch. The model is loaded
 * from `spec.model` and disposed after, unless `options.loaded` is given (then it stays the caller's).
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} for a bad spec, an empty input or shard, or an
 * unreadable image (naming the file)
 * @example
 * ```ts
 * const r = await extractFeatures({ model: 'm.json', images: 'data/shapes' }, { shard: { index: 0, count: 4 } });
 * ```
 */
export async function extractFeatures(
  spec: ExtractionSpec,
  options: ExtractFeaturesOptions = {},
): Promise<ExtractionResult> {
  checkSpec(spec);
  const inputs = options.inputs ?? (await listInputs(spec));
  const total = inputs.files.length;
  const { start, end } = options.shard ? shardRange(total, options.shard) : { start: 0, end: total };
  if (end <= start) {
    throw new InvalidArgumentError(
      FN,
      'options.shard',
      `a shard with rows (at most ${total} shards for ${total} images)`,
      `${options.shard?.index}/${options.shard?.count}`,
    );
  }
  const loaded = options.loaded ?? (await loadModelArg(spec.model));
  const { model, defaultTap } = loaded;
  try {
    const taps = spec.taps ?? [defaultTap ?? -2];
    const augment: AugmentOptions | false = spec.augment
      ? { crops: 'center+corners', flip: true, combine: 'mean' }
      : false;
    const pool = spec.pool ?? 'flatten';
    const norm = spec.norm ?? 'none';
    const resize = spec.resize ?? 'stretch';
    const scale = spec.scale ?? 1;
    const offset = spec.offset ?? 0;
    const fx = new FeatureExtractor(model, {
      taps,
      pool,
      normalize: norm,
      resize,
      preprocess: { scale, offset },
      augment,
    });
    try {
      const channels = (model.inputs[0].shape[3] as number | null) ?? 3;
      const files = inputs.files.slice(start, end);
      const { idx } = inputs;
      const read = (row: number): Promise<tf.Tensor3D> =>
        idx !== undefined
          ? Promise.resolve(idxImage(idx, start + row, channels))
          : readImageFile(files[row], channels);
      // Batches of same-size images, read lazily, at the batch size the memory budget allows.
      async function* batches(bs: number): AsyncGenerator<tf.Tensor4D> {
        let pending: tf.Tensor3D[] = [];
        const flush = () => {
          const b = tf.stack(pending) as tf.Tensor4D;
          tf.dispose(pending);
          pending = [];
          return b;
        };
        try {
          for (let row = 0; row < files.length; row++) {
            const img = await read(row);
            if (
              pending.length > 0 &&
              (pending.length >= bs || pending[0].shape.some((d, i) => d !== img.shape[i]))
            )
              yield flush();
            pending.push(img);
          }
          if (pending.length > 0) yield flush();
        } finally {
          tf.dispose(pending);
        }
      }
      const matrices = await fx.extractAll(batches, {
        memoryBudgetMB: spec.memoryMB ?? 64,
        total: files.length,
        onProgress: options.onProgress,
      });
      const tapNames = fx.taps.map((t) => t.name);
      return {
        matrices,
        labels: inputs.labels.slice(start, end),
        meta: {
          model: spec.model,
          classes: inputs.classes,
          files: inputs.ids.slice(start, end),
          taps: tapNames,
          pool,
          norm,
          augment: Boolean(spec.augment),
        },
        rowMeta: ['files'],
        options: {
          model: spec.model,
          taps: tapNames,
          pool,
          norm,
          resize,
          scale,
          offset,
          augment: !!spec.augment,
        },
        source: inputFingerprint(inputs),
        total,
        start,
        end,
      };
    } finally {
      fx.dispose();
    }
  } finally {
    if (options.loaded === undefined) model.dispose();
  }
}
