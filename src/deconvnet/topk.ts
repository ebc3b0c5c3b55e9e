/**
 * Top-k activations per channel over a data set (Zeiler & Fergus 2013, fig. 2: "the top 9 activations in a random
 * subset of feature maps across the validation data, projected down to pixel space", beside the image patches).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchesOf, isBatchSource } from '../core/batches.js';
import { checkInteger, checkOneOf, checkOptionKeys, checkOptions, isTensor } from '../core/checks.js';
import { InvalidArgumentError, type ProgressCallback } from '../core/index.js';
import type { ImageSource } from '../features/index.js';
import type { LayerRef } from '../model/layers.js';
import { type FieldBox, type ReceptiveField, unitBox } from './geometry.js';
import { PROJECTION_STRATEGIES, type ProjectionStrategy } from './rule-kit.js';
import type { ScanHost } from './scan.js';

export type { ImageSource };

/** Options of {@link Deconvnet.topK}. */
export interface TopKOptions {
  /** The layer whose channels are ranked. */
  layer: LayerRef;
  /**
   * How many of the strongest activations to keep per channel (each from a different image).
   * @default 9
   */
  k?: number;
  /** @default 'all' */
  channels?: number[] | 'all';
  /**
   * Images per forward pass when `data` is one tensor, and units per projection pass.
   * @default 32
   */
  batchSize?: number;
  /** @default the Deconvnet's strategy */
  strategy?: ProjectionStrategy;
  /**
   * `true`: projections and patches are cropped to the unit's receptive field (zero where it reaches outside the
   * image), as in the paper's figures; `false`: whole images.
   * @default true
   */
  crop?: boolean;
  /** Progress: phase `'scan'` (images) then `'project'` (units). */
  onProgress?: ProgressCallback;
  /**
   * Keep the batches an iterable or generator yields (by default each is disposed once scanned, as
   * `FeatureExtractor.extractAll` does). A tensor or an array of tensors passed directly is never disposed.
   * @default false
   */
  keepBatches?: boolean;
}

/** One of the top-k units of a channel. */
export interface TopKUnit {
  /** Channel index in the layer. */
  channel: number;
  /** 0 for the strongest. */
  rank: number;
  /** The activation value. */
  score: number;
  /** Index of the image in the data stream (counting from 0 over all batches). */
  index: number;
  /** Row of the unit in the feature map (0 for layers without spatial axes). */
  y: number;
  /** Column of the unit in the feature map (0 for layers without spatial axes). */
  x: number;
  /** The unit's receptive field in the image (unclipped). */
  box: FieldBox;
}

/** What {@link Deconvnet.topK} returns. The caller owns (and disposes) the two tensors. */
export interface TopKResult {
  /** Layer name. */
  layer: string;
  /** The ranked channels, in the order of the first axis of the tensors. */
  channels: number[];
  /** Requested k. */
  k: number;
  /** `units[i][r]`: rank `r` of channel `channels[i]` (fewer than k when the data set has fewer images). */
  units: TopKUnit[][];
  /** The projections: `[channels, k, h, w, C]` (zero where a channel has fewer than k units). */
  projections: tf.Tensor5D;
  /** The image patches that caused them, same shape. */
  patches: tf.Tensor5D;
  /** Receptive field of the layer's units. */
  receptiveField: ReceptiveField;
}

interface Entry {
  score: number;
  index: number;
  y: number;
  x: number;
}

/** A bounded list of the k largest entries (insertion into a sorted array: k is small). */
export class TopKList {
  readonly items: Entry[] = [];
  constructor(readonly k: number) {}
  /** The score a new entry must beat to enter. */
  get threshold(): number {
    return this.items.length < this.k ? -Infinity : this.items[this.items.length - 1].score;
  }
  /** Inserts `e` if it is among the k largest; returns whether it entered. Earlier entries win ties. */
  offer(e: Entry): boolean {
    if (this.items.length >= this.k && !(e.score > this.threshold)) return false;
    let i = this.items.length;
    while (i > 0 && this.items[i - 1].score < e.score) i--;
    this.items.splice(i, 0, e);
    if (this.items.length > this.k) this.items.pop();
    return true;
  }
}

/** @internal Implementation of {@link Deconvnet.topK}. */
export async function topKImpl(dn: ScanHost, data: ImageSource, options: TopKOptions): Promise<TopKResult> {
  const fn = 'Deconvnet.topK';
  dn.checkLive('topK');
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, [
    'layer',
    'k',
    'channels',
    'batchSize',
    'strategy',
    'crop',
    'onProgress',
    'keepBatches',
  ] satisfies (keyof TopKOptions)[]);
  const target = dn.scanTarget(fn, opts.layer, 'options.layer');
  const k = opts.k ?? 9;
  checkInteger(fn, 'options.k', k, 1, 10_000);
  const batchSize = opts.batchSize ?? 32;
  checkInteger(fn, 'options.batchSize', batchSize, 1);
  const strategy = opts.strategy ?? dn.strategy;
  checkOneOf(fn, 'options.strategy', strategy, PROJECTION_STRATEGIES);
  const crop = opts.crop ?? true;
  const wanted = opts.channels ?? 'all';
  // a graph node's channel count is known once its activations are: checked in full on the first batch
  const shape = target.outputShape;
  let chanT =
    shape !== undefined
      ? dn.checkChannelList(fn, wanted, shape[shape.length - 1] ?? 0)
      : wanted === 'all'
        ? []
        : dn.checkChannelList(fn, wanted, Number.MAX_SAFE_INTEGER);
  const isData = isBatchSource(data);
  if (!isData) {
    throw new InvalidArgumentError(
      fn,
      'data',
      'a Tensor4D, an (async) iterable of Tensor4D batches or a function of the batch size returning one',
      data,
    );
  }
  if (isTensor(data)) dn.checkImages(fn, data as tf.Tensor4D);

  let spatial = shape !== undefined && shape.length === 4;
  let ow = spatial ? (shape?.[2] ?? 1) : 1;
  let lists = chanT.map(() => new TopKList(k));
  const store = new Map<number, Float32Array>();
  let imageShape: [number, number, number] | null = null;
  let seen = 0;
  const total = isTensor(data) ? data.shape[0] : 0;

  const batches = batchesOf(data, {
    batchSize,
    keepBatches: opts.keepBatches ?? false,
    fn,
    argument: 'data',
  });
  for await (const { batch: b, owned } of batches) {
    const batch = b as tf.Tensor4D;
    try {
      dn.checkImages(fn, batch);
      imageShape = [batch.shape[1], batch.shape[2], batch.shape[3]];
      const [maxT, argT] = tf.tidy(() => {
        const a = dn.activations(batch, target.ref);
        if (seen === 0) {
          chanT = dn.checkChannelList(fn, wanted, a.shape[a.rank - 1]);
          if (lists.length === 0) lists = chanT.map(() => new TopKList(k));
          spatial = a.rank === 4;
          ow = spatial ? (a.shape[2] as number) : 1;
        }
        const n = a.shape[0];
        const sel = tf.gather(a, tf.tensor1d(chanT, 'int32'), a.rank - 1);
        if (!spatial) return [tf.reshape(sel, [n, chanT.length]), tf.zeros([n, chanT.length], 'int32')];
        const flat = tf.reshape(sel, [n, -1, chanT.length]);
        return [tf.max(flat, 1), tf.argMax(flat, 1)];
      });
      const [maxV, argV] = await Promise.all([maxT.data(), argT.data()]);
      maxT.dispose();
      argT.dispose();
      const n = batch.shape[0];
      const accepted = new Set<number>();
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < chanT.length; j++) {
          const score = maxV[i * chanT.length + j];
          const pos = argV[i * chanT.length + j];
          if (lists[j].offer({ score, index: seen + i, y: Math.floor(pos / ow), x: pos % ow })) {
            accepted.add(seen + i);
          }
        }
      }
      const live = new Set<number>();
      for (const l of lists) for (const e of l.items) live.add(e.index);
      if ([...accepted].some((i) => live.has(i))) {
        const pixels = (await batch.data()) as Float32Array;
        const per = pixels.length / n;
        for (const i of accepted) {
          if (live.has(i)) store.set(i, pixels.slice((i - seen) * per, (i - seen + 1) * per));
        }
      }
      for (const key of [...store.keys()]) if (!live.has(key)) store.delete(key);
      seen += n;
      opts.onProgress?.({ phase: 'scan', done: seen, total: Math.max(total, seen) });
    } finally {
      if (owned && isTensor(batch) && !batch.isDisposed) batch.dispose();
    }
  }
  if (seen === 0 || imageShape === null) {
    throw new InvalidArgumentError(fn, 'data', 'at least one image', 'an empty data set');
  }

  // project every kept unit, batchSize units at a time, and crop to the receptive field
  const [h, w, c] = imageShape;
  const rf = dn.scanField(target, h, w);
  const units: TopKUnit[][] = lists.map((l, j) =>
    l.items.map((e, r) => ({
      channel: chanT[j],
      rank: r,
      score: e.score,
      index: e.index,
      y: e.y,
      x: e.x,
      box: unitBox(rf, e.y, e.x),
    })),
  );
  const flatUnits = units.flat();
  const outH = crop ? rf.size[0] : h;
  const outW = crop ? rf.size[1] : w;
  const projParts: tf.Tensor4D[] = [];
  const patchParts: tf.Tensor4D[] = [];
  try {
    for (let s = 0; s < flatUnits.length; s += batchSize) {
      const chunk = flatUnits.slice(s, s + batchSize);
      const needed = [...new Set(chunk.map((u) => u.index))];
      const local = new Map(needed.map((v, i) => [v, i]));
      const buf = new Float32Array(needed.length * h * w * c);
      needed.forEach((v, i) => {
        buf.set(store.get(v)!, i * h * w * c);
      });
      const [p, q] = tf.tidy(() => {
        const imgs = tf.tensor4d(buf, [needed.length, h, w, c]);
        const proj = dn.projectUnits(
          imgs,
          chunk.map((u) => ({
            image: local.get(u.index)!,
            channel: u.channel,
            ...(spatial ? { y: u.y, x: u.x } : {}),
          })),
          { layer: target.ref, strategy },
        );
        const src = tf.gather(
          imgs,
          tf.tensor1d(
            chunk.map((u) => local.get(u.index)!),
            'int32',
          ),
        ) as tf.Tensor4D;
        if (!crop) return [proj, src];
        const boxes = chunk.map((u) => u.box);
        return [cropBoxes(proj, boxes, h, w), cropBoxes(src, boxes, h, w)];
      });
      projParts.push(p);
      patchParts.push(q);
      opts.onProgress?.({
        phase: 'project',
        done: Math.min(s + batchSize, flatUnits.length),
        total: flatUnits.length,
      });
    }
    const [projections, patches] = tf.tidy(() => {
      const empty = tf.zeros([1, outH, outW, c]);
      const allP = projParts.length > 0 ? tf.concat(projParts, 0) : empty;
      const allQ = patchParts.length > 0 ? tf.concat(patchParts, 0) : empty;
      // place each unit at [channel, rank], zero-filling ranks a short channel lacks
      const idx: number[] = [];
      let off = 0;
      const zeroRow = flatUnits.length; // index of an appended zero row
      for (const list of units) {
        for (let r = 0; r < k; r++) idx.push(r < list.length ? off + r : zeroRow);
        off += list.length;
      }
      const pad = tf.zeros([1, outH, outW, c]);
      const gi = tf.tensor1d(idx, 'int32');
      const shape: [number, number, number, number, number] = [chanT.length, k, outH, outW, c];
      return [
        tf.reshape(tf.gather(tf.concat([allP, pad], 0), gi), shape) as tf.Tensor5D,
        tf.reshape(tf.gather(tf.concat([allQ, pad], 0), gi), shape) as tf.Tensor5D,
      ];
    });
    return { layer: target.name, channels: chanT, k, units, projections, patches, receptiveField: rf };
  } finally {
    tf.dispose([...projParts, ...patchParts]);
  }
}

/**
 * Crops `boxes` (in pixels, possibly reaching outside the image) out of `images` `[B, H, W, C]`, one box per image,
 * all of the same size, with zeros outside the image: exact pixel copies (crop-and-resize at integer coordinates).
 */
export function cropBoxes(images: tf.Tensor4D, boxes: FieldBox[], h: number, w: number): tf.Tensor4D {
  const bh = boxes[0].height;
  const bw = boxes[0].width;
  // pad so every box lies inside, then slice: exact and cheap for small batches
  const padTop = Math.max(0, ...boxes.map((b) => -b.top));
  const padLeft = Math.max(0, ...boxes.map((b) => -b.left));
  const padBottom = Math.max(0, ...boxes.map((b) => b.top + b.height - h));
  const padRight = Math.max(0, ...boxes.map((b) => b.left + b.width - w));
  const padded =
    padTop + padLeft + padBottom + padRight > 0
      ? tf.pad(images, [
          [0, 0],
          [padTop, padBottom],
          [padLeft, padRight],
          [0, 0],
        ])
      : images;
  const parts = boxes.map((b, i) =>
    tf.slice(padded, [i, b.top + padTop, b.left + padLeft, 0], [1, bh, bw, images.shape[3]]),
  );
  return tf.concat(parts, 0) as tf.Tensor4D;
}
