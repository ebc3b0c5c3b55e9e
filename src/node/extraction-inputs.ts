/**
 * The inputs of a feature extraction job ({@link ExtractionSpec}): the spec and its checks, the rows it names (an
 * image folder, a list file or an IDX file) with their labels, one image read per row, the model argument
 * (`pretrained:<name>` or a model.json), and a fingerprint of the whole input that shards and caches compare.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { NORM_MODES, POOL_MODES } from '../features/normalize.js';
import { RESIZE_MODES } from '../features/views.js';
import { InvalidArgumentError, type NormMode, type PoolMode, type ResizeMode } from '../index.js';
import { type IdxArray, readIdx } from './idx.js';
import { decodeImageFile, listImageFolder } from './images.js';
import { loadLayersModelFrom, loadPretrained, PRETRAINED_MODELS } from './pretrained.js';

/**
 * A feature extraction job as plain JSON: where the images are, which model, which taps, how to process them.
 *
 * @example
 * ```ts
 * const spec: ExtractionSpec = { model: 'out/cnn/model.json', images: 'data/shapes', taps: ['fc1'], norm: 'l2' };
 * ```
 */
export interface ExtractionSpec {
  /** `pretrained:mobilenet_v2`, `pretrained:inception_v3` or the path of a tfjs layers `model.json`. */
  model: string;
  /** A folder of PNG/JPEG images, one sub-folder per class (sorted names = class ids), or images directly. */
  images?: string;
  /** A text file listing images, one per line as `path` or `path<TAB>label` (paths relative to the list's folder). */
  list?: string;
  /**
   * An IDX file of images (MNIST's format, raw or gzip): `[count, height, width]` (grey) or
   * `[count, height, width, channels]`; uint8 values are scaled to [0, 1], float values taken as they are.
   */
  idx?: string;
  /** With `idx`: an IDX file of `count` integer labels. @default every row labelled 0 */
  idxLabels?: string;
  /** Layer names or indices (negative from the end). @default the pretrained model's feature layer, else `[-2]` */
  taps?: (string | number)[];
  /** Pooling of conv maps. @default 'flatten' */
  pool?: PoolMode;
  /** Normalisation. @default 'none' */
  norm?: NormMode;
  /** How images are fitted to the model input. @default 'stretch' */
  resize?: ResizeMode;
  /** Preprocessing: pixels in [0, 1] times this. @default 1 */
  scale?: number;
  /** Preprocessing: added after scaling. @default 0 */
  offset?: number;
  /** Average the features of 10 views (centre + 4 corner crops, mirrored). @default false */
  augment?: boolean;
  /** Memory budget of one batch of activations, MiB. @default 64 */
  memoryMB?: number;
}

/**
 * The rows of an extraction: image files in order, their labels and the class names.
 *
 * @example
 * ```ts
 * const { files, labels, classes, ids } = await listInputs({ model: 'm.json', images: 'data/shapes' });
 * ```
 */
export interface ExtractionInputs {
  /** Absolute or working-directory-relative paths of the images, in row order. */
  files: string[];
  /** One integer label per row. */
  labels: number[];
  /** Class names (index = label). */
  classes: string[];
  /** Row ids written in the feature file's `meta.files` (paths relative to the folder or as listed; `<file>#<row>` for IDX). */
  ids: string[];
  /** The images, for an IDX input (`files` then holds the IDX file once per row). */
  idx?: IdxArray;
}

/** A loaded model and the tap to use when none is given. */
export interface LoadedModel {
  /** The model. */
  model: tfl.LayersModel;
  /** Default tap (a pretrained model's feature layer). */
  defaultTap?: string;
}

/**
 * Loads a model: `pretrained:<name>` (nsfwjs's backbones) or the path of a tfjs layers `model.json`.
 *
 * @example
 * ```ts
 * const { model, defaultTap } = await loadModelArg('pretrained:mobilenet_v2');
 * ```
 */
export async function loadModelArg(spec: string): Promise<LoadedModel> {
  if (typeof spec !== 'string' || spec.length === 0) {
    throw new InvalidArgumentError('loadModelArg', 'spec', "'pretrained:<name>' or a model.json path", spec);
  }
  if (spec.startsWith('pretrained:')) {
    const name = spec.slice('pretrained:'.length);
    if (name !== 'mobilenet_v2' && name !== 'inception_v3') {
      throw new InvalidArgumentError(
        'transferkit features',
        '--model',
        "'pretrained:mobilenet_v2' or 'pretrained:inception_v3'",
        spec,
      );
    }
    return { model: await loadPretrained(name), defaultTap: PRETRAINED_MODELS[name].featureLayer };
  }
  return { model: await loadLayersModelFrom(spec) };
}

/**
 * Decodes a PNG or JPEG file to `[H, W, channels]` float32 in [0, 1] (channels 1: mean of R, G, B).
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} naming the file when it cannot be decoded
 * @example
 * ```ts
 * const img = await readImageFile('data/cat.png', 3);
 * ```
 */
export async function readImageFile(file: string, channels: number): Promise<tf.Tensor3D> {
  const img = await decodeImageFile(file, 'readImageFile', 'file');
  const { width: w, height: h } = img;
  const out = new Float32Array(w * h * channels);
  for (let i = 0; i < w * h; i++) {
    const r = img.data[4 * i] / 255;
    const g = img.data[4 * i + 1] / 255;
    const b = img.data[4 * i + 2] / 255;
    if (channels === 1) out[i] = (r + g + b) / 3;
    else {
      out[3 * i] = r;
      out[3 * i + 1] = g;
      out[3 * i + 2] = b;
    }
  }
  return tf.tensor3d(out, [h, w, channels]);
}

/**
 * The images of `dir` as file paths and class ids, numbered like every image-folder reader of transferkit
 * (`listImageFolder`): one sub-folder per class (code-unit order of names = class ids), or image files directly
 * (class 0, named `all`).
 *
 * @example
 * ```ts
 * const { files, labels, classes } = await listImages('data/shapes');
 * ```
 */
export async function listImages(
  dir: string,
  caller: { fn: string; argument: string } = { fn: 'listImages', argument: 'dir' },
): Promise<{
  /** Image paths, in row order. */
  files: string[];
  /** Class id of each image. */
  labels: number[];
  /** Class names (sub-folder names in code-unit order, or `['all']`). */
  classes: string[];
}> {
  const listing = await listImageFolder(dir, caller);
  return {
    files: listing.files,
    labels: listing.labels ?? listing.files.map(() => 0),
    classes: listing.classNames ?? ['all'],
  };
}

const FN = 'extractFeatures';

/** Checks an extraction spec's fields before anything is read. */
export function checkSpec(spec: ExtractionSpec): void {
  if (typeof spec !== 'object' || spec === null) {
    throw new InvalidArgumentError(FN, 'spec', 'an ExtractionSpec object', spec);
  }
  if (typeof spec.model !== 'string' || spec.model.length === 0) {
    throw new InvalidArgumentError(FN, 'spec.model', "'pretrained:<name>' or a model.json path", spec.model);
  }
  if ([spec.images, spec.list, spec.idx].filter((v) => v !== undefined).length !== 1) {
    throw new InvalidArgumentError(
      FN,
      'spec',
      'exactly one of `images` (a folder), `list` (a file) or `idx` (an IDX file)',
      spec,
    );
  }
  if (spec.idxLabels !== undefined && spec.idx === undefined) {
    throw new InvalidArgumentError(FN, 'spec.idxLabels', 'labels together with `idx`', spec.idxLabels);
  }
  const oneOf = (k: keyof ExtractionSpec, values: readonly string[]) => {
    if (spec[k] !== undefined && !values.includes(spec[k] as string)) {
      throw new InvalidArgumentError(FN, `spec.${k}`, `one of ${values.join(', ')}`, spec[k]);
    }
  };
  oneOf('pool', POOL_MODES);
  oneOf('norm', NORM_MODES);
  oneOf('resize', RESIZE_MODES);
  for (const k of ['scale', 'offset'] as const) {
    if (spec[k] !== undefined && !Number.isFinite(spec[k])) {
      throw new InvalidArgumentError(FN, `spec.${k}`, 'a finite number', spec[k]);
    }
  }
  if (spec.memoryMB !== undefined && !(Number(spec.memoryMB) > 0)) {
    throw new InvalidArgumentError(FN, 'spec.memoryMB', 'a number > 0', spec.memoryMB);
  }
}

/**
 * Lists the rows of an extraction job ({@link ExtractionSpec.images} folder or {@link ExtractionSpec.list} file).
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} for an empty input or a malformed list line
 * @example
 * ```ts
 * const inputs = await listInputs({ model: 'm.json', list: 'train.txt' });
 * ```
 */
export async function listInputs(spec: ExtractionSpec): Promise<ExtractionInputs> {
  checkSpec(spec);
  let out: ExtractionInputs;
  if (spec.idx !== undefined) {
    out = await listIdx(spec.idx, spec.idxLabels);
  } else if (spec.images !== undefined) {
    const { files, labels, classes } = await listImages(spec.images, {
      fn: 'transferkit features',
      argument: '--images',
    });
    out = { files, labels, classes, ids: files.map((f) => path.relative(spec.images as string, f)) };
  } else {
    const list = spec.list as string;
    const lines = (await readFile(list, 'utf8')).split(/\r?\n/).filter((l) => l.trim().length > 0);
    const files: string[] = [];
    const labels: number[] = [];
    const ids: string[] = [];
    lines.forEach((line, i) => {
      const [p, label, ...rest] = line.split('\t');
      if (rest.length > 0 || (label !== undefined && !/^\d+$/.test(label.trim()))) {
        throw new InvalidArgumentError(FN, `spec.list line ${i + 1}`, "'path' or 'path<TAB>label'", line);
      }
      ids.push(p);
      files.push(path.resolve(path.dirname(list), p));
      labels.push(label === undefined ? 0 : Number(label));
    });
    const k = Math.max(0, ...labels) + 1;
    out = { files, labels, ids, classes: Array.from({ length: k }, (_, c) => String(c)) };
  }
  if (out.files.length === 0) {
    throw new InvalidArgumentError(
      'transferkit features',
      spec.images !== undefined ? '--images' : spec.list !== undefined ? '--list' : '--idx',
      'a folder, list or IDX file with images',
      spec.images ?? spec.list ?? spec.idx,
    );
  }
  return out;
}

/** The rows of an IDX image file (and its labels). */
async function listIdx(file: string, labelsFile: string | undefined): Promise<ExtractionInputs> {
  const idx = await readIdx(file);
  if (idx.dims.length !== 3 && idx.dims.length !== 4) {
    throw new InvalidArgumentError(
      FN,
      'spec.idx',
      'an IDX file of images [count, height, width] or [count, height, width, channels]',
      `${file} with dims [${idx.dims.join(', ')}]`,
    );
  }
  const count = idx.dims[0];
  let labels: number[] = new Array(count).fill(0);
  if (labelsFile !== undefined) {
    const l = await readIdx(labelsFile);
    if (
      l.dims.length !== 1 ||
      l.dims[0] !== count ||
      !Array.from(l.data).every((v) => Number.isInteger(v) && v >= 0)
    ) {
      throw new InvalidArgumentError(
        FN,
        'spec.idxLabels',
        `an IDX file of ${count} integer labels >= 0 (one per image of ${path.basename(file)})`,
        `${labelsFile} with dims [${l.dims.join(', ')}]`,
      );
    }
    labels = Array.from(l.data);
  }
  const base = path.basename(file);
  const k = Math.max(0, ...labels) + 1;
  return {
    files: new Array(count).fill(file),
    labels,
    classes: Array.from({ length: k }, (_, c) => String(c)),
    ids: Array.from({ length: count }, (_, i) => `${base}#${i}`),
    idx,
  };
}

/** Row `i` of an IDX image array as `[H, W, channels]` float32 (grey repeated for 3 channels, RGB averaged for 1). */
export function idxImage(idx: IdxArray, i: number, channels: number): tf.Tensor3D {
  const [, h, w] = idx.dims;
  const c = idx.dims[3] ?? 1;
  const scale = idx.type === 'uint8' ? 1 / 255 : 1;
  const src = idx.data.subarray(i * h * w * c, (i + 1) * h * w * c);
  const out = new Float32Array(h * w * channels);
  for (let p = 0; p < h * w; p++) {
    if (channels === 1 && c > 1) {
      // Mean of R, G, B, as readImageFile does.
      out[p] = ((src[p * c] + src[p * c + 1] + src[p * c + 2]) / 3) * scale;
    } else {
      for (let q = 0; q < channels; q++)
        out[p * channels + q] = src[p * c + (c === 1 ? 0 : Math.min(q, c - 1))] * scale;
    }
  }
  return tf.tensor3d(out, [h, w, channels]);
}

/**
 * A fingerprint of the whole input (row ids, labels and classes, in order): SHA-256 hex. Shards of different
 * inputs have different fingerprints and do not merge.
 *
 * @example
 * ```ts
 * const source = inputFingerprint(await listInputs(spec));
 * ```
 */
export function inputFingerprint(inputs: ExtractionInputs): string {
  const h = createHash('sha256').update(JSON.stringify([inputs.ids, inputs.labels, inputs.classes]));
  // An IDX input's rows are its content, not files: hash the values too.
  if (inputs.idx !== undefined) {
    const d = inputs.idx.data;
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex');
}
