/**
 * The one batch-source adapter: turns whatever a caller passes as "a data set of images" (a tensor, an array of
 * images or batches, an (async) iterable of batches, or a function of the batch size returning one) into a stream
 * of batches, each with whether the consumer owns (and must dispose) it. `FeatureExtractor.extractAll` and
 * `Deconvnet.topK` read their data through it.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { isTensor } from './checks.js';
import { InvalidArgumentError } from './errors.js';

/**
 * A data set of images in any of the accepted forms: one tensor `[N, ...]`, an array of images `[H, W, C]` (stacked
 * into batches) and/or batches `[n, H, W, C]`, an (async) iterable of batches, or a function of the batch size
 * that returns one (a generator).
 */
export type BatchSource =
  | tf.Tensor
  | readonly tf.Tensor[]
  | Iterable<tf.Tensor>
  | AsyncIterable<tf.Tensor>
  | ((batchSize: number) => Iterable<tf.Tensor> | AsyncIterable<tf.Tensor>);

/** One batch of a {@link BatchSource}. */
export interface SourceBatch {
  /** The batch (not checked: the consumer checks its shape). */
  batch: tf.Tensor;
  /** Whether the consumer must dispose it (slices and stacks made here; generated batches unless kept). */
  owned: boolean;
  /** How to name the batch in an error message, e.g. `'source'`, `'source[3]'`, `'source (batch 2)'`. */
  argument: string;
}

/** Options of {@link batchesOf}. */
export interface BatchesOfOptions {
  /** Largest batch: a tensor is sliced, array images are stacked, in batches of at most this size. */
  batchSize: number;
  /** Do not dispose batches that an iterable or generator produced (the caller keeps them). */
  keepBatches: boolean;
  /** The public function, for error messages. */
  fn: string;
  /** The argument's name, for error messages. @default 'source' */
  argument?: string;
}

/** Whether `v` has one of the forms of a {@link BatchSource} (the items are checked as they arrive). */
export function isBatchSource(v: unknown): v is BatchSource {
  return (
    isTensor(v) ||
    Array.isArray(v) ||
    typeof v === 'function' ||
    (typeof v === 'object' && v !== null && (Symbol.iterator in v || Symbol.asyncIterator in v))
  );
}

/**
 * The batches of `source` in order. A tensor is sliced into batches of `batchSize` (owned); in an array, runs of
 * images `[H, W, C]` of one shape are stacked into batches of up to `batchSize` (owned) and other tensors pass as
 * batches (the caller's); iterables and generators pass their batches on (owned unless `keepBatches`).
 *
 * @throws {@link InvalidArgumentError} for an array item that is not a tensor, or a function that does not return
 * an (async) iterable
 */
export async function* batchesOf(
  source: BatchSource,
  options: BatchesOfOptions,
): AsyncGenerator<SourceBatch> {
  const { batchSize, keepBatches, fn } = options;
  const name = options.argument ?? 'source';
  if (isTensor(source)) {
    const n = source.shape[0] ?? 0;
    if (n <= batchSize) {
      yield { batch: source, owned: false, argument: name };
      return;
    }
    for (let s = 0; s < n; s += batchSize) {
      yield { batch: tf.slice(source, s, Math.min(batchSize, n - s)), owned: true, argument: name };
    }
    return;
  }
  if (Array.isArray(source)) {
    const list = source as readonly unknown[];
    let pending: tf.Tensor[] = [];
    function* flush(): Generator<SourceBatch> {
      if (pending.length === 0) return;
      const stacked = tf.stack(pending);
      pending = [];
      yield { batch: stacked, owned: true, argument: name };
    }
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      if (isTensor(t) && t.rank === 3 && !t.isDisposed) {
        if (pending.length > 0 && !pending[0].shape.every((d, j) => d === t.shape[j])) yield* flush();
        pending.push(t);
        if (pending.length >= batchSize) yield* flush();
      } else {
        yield* flush();
        if (!isTensor(t)) {
          throw new InvalidArgumentError(
            fn,
            `${name}[${i}]`,
            'an image [H, W, C] or a batch [N, H, W, C]',
            t,
          );
        }
        yield { batch: t, owned: false, argument: `${name}[${i}]` };
      }
    }
    yield* flush();
    return;
  }
  const iterable = typeof source === 'function' ? source(batchSize) : source;
  if (
    typeof iterable !== 'object' ||
    iterable === null ||
    !(Symbol.iterator in iterable || Symbol.asyncIterator in iterable)
  ) {
    throw new InvalidArgumentError(
      fn,
      name,
      'a generator function that returns an (async) iterable of batches',
      iterable,
    );
  }
  let i = 0;
  for await (const batch of iterable as AsyncIterable<tf.Tensor>) {
    yield { batch, owned: !keepBatches && isTensor(batch), argument: `${name} (batch ${i})` };
    i++;
  }
}
