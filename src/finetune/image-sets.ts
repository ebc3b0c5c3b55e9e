/**
 * The image sets of {@link finetune}: checks of the sets a user passes (labels, shapes), views of a subset, tensor
 * sets as loaders, cache keys of feature chunks and class probabilities of a model over a set, a chunk at a time.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkInteger, isTensor } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import type { ImageSet, ImageTensorSet } from './types.js';

const FN = 'finetune';

/** Whether `v` is an {@link ImageSet} (images loaded on demand) rather than an {@link ImageTensorSet}. */
export function isImageSet(v: unknown): v is ImageSet {
  return typeof v === 'object' && v !== null && typeof (v as ImageSet).load === 'function';
}

/** The backbone's image input `[height, width, channels]`, or a typed error when it takes no images. */
export function imageInputShape(fn: string, model: tfl.LayersModel): [number, number, number] {
  const shape = model.inputs.length === 1 ? model.inputs[0].shape : undefined;
  if (
    shape === undefined ||
    shape.length !== 4 ||
    shape.slice(1).some((d) => d === null) ||
    (shape[3] !== 1 && shape[3] !== 3)
  ) {
    throw new ShapeMismatchError(
      fn,
      'model',
      'a model with one image input [batch, height, width, 1 or 3] of fixed size',
      shape === undefined
        ? `${model.inputs.length} inputs`
        : `input shape [${shape.map((d) => d ?? 'null').join(', ')}]`,
    );
  }
  return [shape[1] as number, shape[2] as number, shape[3] as number];
}

/** Checks one set of images (labels in range, tensor shape) before anything is allocated. Returns its labels. */
export function checkSet(
  argument: string,
  set: unknown,
  numClasses: number,
  inputShape: [number, number, number],
): Int32Array {
  if (typeof set !== 'object' || set === null) {
    throw new InvalidArgumentError(
      FN,
      argument,
      'an image set { count, labels, load } or { x, labels }',
      set,
    );
  }
  let count: number;
  if (isImageSet(set)) {
    count = set.count;
    checkInteger(FN, `${argument}.count`, count, 0);
    if (set.ids !== undefined && set.ids.length !== count) {
      throw new InvalidArgumentError(FN, `${argument}.ids`, `${count} ids`, `${set.ids.length} ids`);
    }
  } else {
    const x = (set as ImageTensorSet).x;
    if (!isTensor(x) || x.isDisposed) {
      throw new InvalidArgumentError(
        FN,
        `${argument}.x`,
        'a live tensor [count, height, width, channels]',
        x,
      );
    }
    if (
      x.rank !== 4 ||
      x.shape[1] !== inputShape[0] ||
      x.shape[2] !== inputShape[1] ||
      x.shape[3] !== inputShape[2]
    ) {
      throw new ShapeMismatchError(
        FN,
        `${argument}.x`,
        `images of the model's input shape [count, ${inputShape.join(', ')}]`,
        x.shape,
      );
    }
    count = x.shape[0];
  }
  const labels = (set as { labels?: ArrayLike<number> }).labels;
  if (labels === null || typeof labels !== 'object' || labels.length !== count) {
    throw new InvalidArgumentError(FN, `${argument}.labels`, `${count} class ids`, labels);
  }
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new InvalidArgumentError(FN, `${argument}.labels[${i}]`, `a class id in [0, ${numClasses})`, l);
    }
    out[i] = l;
  }
  return out;
}

/** A view of `set` restricted to `indices` (in that order). */
export function subset(set: ImageSet, indices: readonly number[]): ImageSet {
  return {
    count: indices.length,
    labels: indices.map((i) => set.labels[i]),
    ids: set.ids ? indices.map((i) => (set.ids as readonly string[])[i]) : undefined,
    load: (idx) => set.load(idx.map((i) => indices[i])),
  };
}

/** `set` as an {@link ImageSet}: a tensor set loads its images by gathering rows. */
export function asImageSet(set: ImageSet | ImageTensorSet): ImageSet {
  if (isImageSet(set)) return set;
  const { x, labels } = set;
  return {
    count: x.shape[0],
    labels,
    load: async (idx) => tf.tidy(() => tf.gather(x, tf.tensor1d(Int32Array.from(idx), 'int32'))),
  };
}

/** FNV-1a over a string, twice with different offsets: 16 hex digits. */
export function hashKey(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
    b = (b ^ (b >>> 15)) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** `[0, 1, ..., n - 1]`. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Class probabilities of `model` on every image of `set`, a chunk at a time. */
export async function predictSet(
  model: tfl.LayersModel,
  set: ImageSet,
  chunkSize: number,
  batchSize: number,
): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (let start = 0; start < set.count; start += chunkSize) {
    const x = await set.load(range(Math.min(chunkSize, set.count - start)).map((i) => start + i));
    try {
      for (let b = 0; b < x.shape[0]; b += batchSize) {
        const p = tf.tidy(
          () => model.predict(tf.slice(x, b, Math.min(batchSize, x.shape[0] - b))) as tf.Tensor,
        );
        const v = await p.data();
        p.dispose();
        parts.push(v as Float32Array);
      }
    } finally {
      x.dispose();
    }
  }
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
