import type { Tensor1D, Tensor4D } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkOneOf } from '../core/checks.js';
import { batchIndices } from '../data/split.js';
import { DisposedError, InvalidArgumentError } from '../index.js';
import type { MnistBatch, MnistPart, MnistSplit } from './mnist.js';

/** Height and width of an MNIST-style image. */
export const SIDE = 28;

/** Pixels of an MNIST-style image. */
export const PER = SIDE * SIDE;

/** A set of 28x28 grey images as bytes (no tensors). */
export interface ImageBytes {
  /** `count * 784` bytes in 0-255, row-major, image `i` at `i * 784`. */
  images: Uint8Array;
  /** The label of each image. */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
}

/** A part of an {@link ImageSplit}: an {@link MnistPart} whose tensors and float pixels are built on first use. */
export interface ImagePart extends MnistPart {
  /** The bytes the part indexes into (shared with the other part when they come from one file; read-only). */
  readonly source: ImageBytes;
}

/** The result of {@link loadFullMnist} and {@link loadFashionMnist}: an {@link MnistSplit} over uint8 images. */
export interface ImageSplit extends MnistSplit {
  /** The training part. */
  readonly train: ImagePart;
  /** The test part. */
  readonly test: ImagePart;
  /** A name per kept class, in label order (after relabelling); digits' names are `'0'`...`'9'`. */
  readonly classNames: string[];
}

/** Builds a part over `source` rows `indices`; x / y / pixels are materialised lazily and disposed by `owner`. */
export function makePart(source: ImageBytes, indices: number[], labels: number[], owner: Owned): ImagePart {
  let pixels: Float32Array | undefined;
  let x: Tensor4D | undefined;
  let y: Tensor1D | undefined;
  const floats = () => {
    if (pixels === undefined) pixels = toFloat(source, indices);
    return pixels;
  };
  return {
    source,
    labels,
    indices,
    size: indices.length,
    height: SIDE,
    width: SIDE,
    get pixels() {
      owner.check('pixels');
      return floats();
    },
    get x() {
      owner.check('x');
      if (x === undefined) {
        x = tf.tensor4d(floats(), [indices.length, SIDE, SIDE, 1], 'float32');
        owner.tensors.push(x);
      }
      return x;
    },
    get y() {
      owner.check('y');
      if (y === undefined) {
        y = tf.tensor1d(labels, 'int32');
        owner.tensors.push(y);
      }
      return y;
    },
  };
}

/** The tensors a split built and owns, and whether it was disposed. */
export interface Owned {
  tensors: tf.Tensor[];
  check(what: string): void;
}

/** Rows `rows` of `source` as floats in [0, 1]. */
export function toFloat(source: ImageBytes, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * PER);
  const img = source.images;
  for (let i = 0; i < rows.length; i++) {
    const from = rows[i] * PER;
    const to = i * PER;
    for (let k = 0; k < PER; k++) out[to + k] = img[from + k] / 255;
  }
  return out;
}

/** Wraps two parts into an {@link ImageSplit}. */
export function makeSplit(
  fn: string,
  train: { source: ImageBytes; indices: number[]; labels: number[] },
  test: { source: ImageBytes; indices: number[]; labels: number[] },
  classes: number[],
  classNames: string[],
): ImageSplit {
  let disposed = false;
  const owner: Owned = {
    tensors: [],
    check(what) {
      if (disposed) throw new DisposedError('ImageSplit', what);
    },
  };
  const trainPart = makePart(train.source, train.indices, train.labels, owner);
  const testPart = makePart(test.source, test.indices, test.labels, owner);
  return {
    train: trainPart,
    test: testPart,
    classes,
    classNames,
    numClasses: classes.length,
    *batches(part, batchSize, batchOptions = {}): Generator<MnistBatch> {
      owner.check('batches');
      checkOneOf(fn, 'part', part, ['train', 'test'] as const);
      const p = part === 'train' ? trainPart : testPart;
      for (const idx of batchIndices(p.size, batchSize, batchOptions)) {
        owner.check('batches');
        const rows = idx.map((i) => p.indices[i]);
        const x = tf.tensor4d(toFloat(p.source, rows), [rows.length, SIDE, SIDE, 1], 'float32');
        const y = tf.tensor1d(
          idx.map((i) => p.labels[i]),
          'int32',
        );
        yield { x, y };
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose(owner.tensors);
      owner.tensors.length = 0;
    },
  };
}

/** Checks `classes` (distinct class ids below `max`) for `fn`. */
export function checkClasses(fn: string, classes: unknown, max: number): void {
  if (classes === undefined) return;
  if (!Array.isArray(classes) || classes.length === 0) {
    throw new InvalidArgumentError(fn, 'options.classes', `a non-empty array of labels 0-${max}`, classes);
  }
  classes.forEach((c, i) => {
    checkInteger(fn, `options.classes[${i}]`, c, 0, max);
  });
}
