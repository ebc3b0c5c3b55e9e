/**
 * Occlusion sensitivity (Zeiler & Fergus 2013, section 4.2, fig. 7): a grey square is slid over the image and, for
 * each position, the classifier's probability of the correct class and the total activity of the strongest feature
 * map of a layer (strongest in the unoccluded image) are recorded. All occluded copies run batched.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkInteger,
  checkNumber,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  isTensor,
} from '../core/checks.js';
import { InvalidArgumentError, type ProgressCallback } from '../core/index.js';
import { LIMITS } from '../core/limits.js';
import type { LayerRef } from '../model/layers.js';
import type { ScanHost } from './scan.js';

/** Options of {@link Deconvnet.occlusion}. */
export interface OcclusionOptions {
  /** The correct class of each image (one per image). */
  labels: number[] | tf.Tensor1D;
  /** Side of the square occluder in pixels. */
  size: number;
  /**
   * Step between occluder positions in pixels. The last row/column of positions is always included so that the
   * square reaches the bottom/right border.
   * @default 1
   */
  stride?: number;
  /**
   * The occluder's value: a number, or `'mean'` for the mean pixel (per channel) of the images passed.
   * @default 'mean'
   */
  fill?: number | 'mean';
  /** A layer whose strongest feature map's total activity is also mapped (Z&F fig. 7 b). */
  layer?: LayerRef;
  /**
   * Whether the model's output is probabilities or logits (softmax is applied to logits). `'auto'`: probabilities
   * when the last layer ends in a softmax.
   * @default 'auto'
   */
  outputKind?: 'auto' | 'probabilities' | 'logits';
  /**
   * Occluded images per forward pass.
   * @default 64
   */
  batchSize?: number;
  /** Progress: phase `'occlusion'`, in occluded images. */
  onProgress?: ProgressCallback;
}

/** What {@link Deconvnet.occlusion} returns. The caller owns (and disposes) the tensors. */
export interface OcclusionResult {
  /** Probability of the correct class with the occluder at each position: `[N, rows, cols]`. */
  probability: tf.Tensor3D;
  /** The most probable class with the occluder at each position: `[N, rows, cols]`, int32 (Z&F fig. 7 e). */
  predicted: tf.Tensor3D;
  /** Total activity of the strongest feature map, `[N, rows, cols]` (only when `layer` was given). */
  featureActivity?: tf.Tensor3D;
  /** The strongest channel of `layer` per image, in the unoccluded image. */
  strongestChannel?: number[];
  /** Top row of the occluder for each map row. */
  rows: number[];
  /** Left column of the occluder for each map column. */
  cols: number[];
  /** Occluder side. */
  size: number;
  /** Probability of the correct class without occluder, per image. */
  baseline: number[];
}

/**
 * Occluder positions along one axis: `0, stride, ...` and the last position `length - size`.
 *
 * @throws {@link InvalidArgumentError} unless `1 <= size <= length` and `stride >= 1` are integers
 *
 * @example
 * ```ts
 * occluderPositions(10, 4, 4); // [0, 4, 6]
 * ```
 */
export function occluderPositions(length: number, size: number, stride: number): number[] {
  const fn = 'occluderPositions';
  checkInteger(fn, 'length', length, 1, LIMITS.maxPositions);
  checkInteger(fn, 'size', size, 1, length);
  checkInteger(fn, 'stride', stride, 1);
  const last = length - size;
  const out: number[] = [];
  for (let p = 0; p <= last; p += stride) out.push(p);
  if (out[out.length - 1] !== last) out.push(last);
  return out;
}

/** A classifier's output is `[batch, classes]`. */
function checkClassifierOutput(fn: string, shape: readonly (number | null)[]): void {
  if (shape.length !== 2) {
    throw new InvalidArgumentError(
      fn,
      'model',
      'a classifier whose output is [batch, classes]',
      `output shape [${shape.join(', ')}]`,
    );
  }
}

/** @internal Implementation of {@link Deconvnet.occlusion}. */
export async function occlusionImpl(
  dn: ScanHost,
  images: tf.Tensor4D,
  options: OcclusionOptions,
): Promise<OcclusionResult> {
  const fn = 'Deconvnet.occlusion';
  dn.checkLive('occlusion');
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, [
    'labels',
    'size',
    'stride',
    'fill',
    'layer',
    'outputKind',
    'batchSize',
    'onProgress',
  ] satisfies (keyof OcclusionOptions)[]);
  dn.checkImages(fn, images);
  const [n, h, w, c] = images.shape;
  checkInteger(fn, 'options.size', opts.size, 1, Math.min(h, w));
  const stride = opts.stride ?? 1;
  checkInteger(fn, 'options.stride', stride, 1);
  const batchSize = opts.batchSize ?? 64;
  checkInteger(fn, 'options.batchSize', batchSize, 1);
  const fill = opts.fill ?? 'mean';
  if (fill !== 'mean') checkNumber(fn, 'options.fill', fill);
  const outputKind = opts.outputKind ?? 'auto';
  checkOneOf(fn, 'options.outputKind', outputKind, ['auto', 'probabilities', 'logits'] as const);
  const target = opts.layer === undefined ? undefined : dn.scanTarget(fn, opts.layer, 'options.layer');
  const spec = dn.outputSpec();
  // a GraphModel's output signature may carry no shape: then it is checked on the unoccluded pass
  if (spec.shape !== undefined) checkClassifierOutput(fn, spec.shape);
  let classes = spec.shape?.[1] ?? Number.MAX_SAFE_INTEGER;
  let labels: number[];
  if (isTensor(opts.labels)) {
    if (opts.labels.rank !== 1 || opts.labels.shape[0] !== n) {
      throw new InvalidArgumentError(fn, 'options.labels', `${n} class indices`, opts.labels);
    }
    labels = Array.from(await opts.labels.data()) as number[];
  } else {
    labels = opts.labels as number[];
    if (!Array.isArray(labels) || labels.length !== n) {
      throw new InvalidArgumentError(fn, 'options.labels', `an array of ${n} class indices`, opts.labels);
    }
  }
  labels.forEach((l, i) => {
    checkInteger(fn, `options.labels[${i}]`, l, 0, classes - 1);
  });
  const probs = outputKind === 'probabilities' || (outputKind === 'auto' && spec.probabilities);

  const rows = occluderPositions(h, opts.size, stride);
  const cols = occluderPositions(w, opts.size, stride);
  const p = rows.length * cols.length;
  const total = n * p;
  const prob = new Float32Array(total);
  const pred = new Int32Array(total);
  const feat = target !== undefined ? new Float32Array(total) : null;

  // the unoccluded pass: baseline probability and the strongest channel of `layer`
  const [base, strongestT] = tf.tidy(() => {
    const { output: out, activations: a } = dn.outputAndActivations(images, target);
    if (spec.shape === undefined) {
      checkClassifierOutput(fn, out.shape);
      classes = out.shape[1] as number;
      labels.forEach((l, i) => {
        checkInteger(fn, `options.labels[${i}]`, l, 0, classes - 1);
      });
    }
    const pr = probs ? out : tf.softmax(out);
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
    const b = tf.sum(tf.mul(pr, onehot), 1);
    if (a === undefined) return [b, tf.zeros([n], 'int32')];
    const flat = tf.reshape(a, [n, -1, a.shape[a.rank - 1]]);
    return [b, tf.argMax(tf.max(flat, 1), 1)];
  });
  const baseline = Array.from(await base.data()) as number[];
  const strongest = Array.from(await strongestT.data()) as number[];
  tf.dispose([base, strongestT]);

  const fillT = tf.tidy(() =>
    fill === 'mean' ? tf.reshape(tf.mean(images, [0, 1, 2]), [1, 1, 1, c]) : tf.fill([1, 1, 1, c], fill),
  );
  try {
    for (let s = 0; s < total; s += batchSize) {
      const b = Math.min(batchSize, total - s);
      const rowInd = new Float32Array(b * h);
      const colInd = new Float32Array(b * w);
      const img = new Int32Array(b);
      for (let j = 0; j < b; j++) {
        const flat = s + j;
        img[j] = Math.floor(flat / p);
        const q = flat % p;
        const r0 = rows[Math.floor(q / cols.length)];
        const c0 = cols[q % cols.length];
        rowInd.fill(1, j * h + r0, j * h + r0 + opts.size);
        colInd.fill(1, j * w + c0, j * w + c0 + opts.size);
      }
      const [pt, pp, ft] = tf.tidy(() => {
        const m = tf.mul(tf.tensor4d(rowInd, [b, h, 1, 1]), tf.tensor4d(colInd, [b, 1, w, 1]));
        const idx = tf.tensor1d(img, 'int32');
        const x = tf.gather(images, idx);
        const occluded = tf.add(tf.mul(x, tf.sub(1, m)), tf.mul(fillT, m));
        const { output: out, activations: a } = dn.outputAndActivations(occluded as tf.Tensor4D, target);
        const pr = probs ? out : tf.softmax(out);
        const lab = tf.gather(tf.tensor1d(labels, 'int32'), idx);
        const pTrue = tf.sum(tf.mul(pr, tf.oneHot(lab, classes)), 1);
        const predicted = tf.argMax(pr, 1);
        if (a === undefined) return [pTrue, predicted, tf.zeros([b])];
        const ch = a.shape[a.rank - 1];
        const sel = tf.oneHot(tf.gather(tf.tensor1d(strongest, 'int32'), idx), ch); // [b, ch]
        const flatA = tf.reshape(a, [b, -1, ch]);
        return [pTrue, predicted, tf.sum(tf.mul(tf.sum(flatA, 1), sel), 1)];
      });
      const [pv, dv, fv] = await Promise.all([pt.data(), pp.data(), ft.data()]);
      tf.dispose([pt, pp, ft]);
      prob.set(pv, s);
      pred.set(dv as Int32Array, s);
      feat?.set(fv, s);
      opts.onProgress?.({ phase: 'occlusion', done: s + b, total });
    }
  } finally {
    fillT.dispose();
  }
  const shape: [number, number, number] = [n, rows.length, cols.length];
  const result: OcclusionResult = {
    probability: tf.tensor3d(prob, shape),
    predicted: tf.tensor3d(pred, shape, 'int32'),
    rows,
    cols,
    size: opts.size,
    baseline,
  };
  if (feat !== null) {
    result.featureActivity = tf.tensor3d(feat, shape);
    result.strongestChannel = strongest;
  }
  return result;
}
