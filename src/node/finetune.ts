/**
 * {@link index!finetune | finetune} on folders of images (one sub-folder per class), a feature cache on disk, and
 * saving / loading / applying the fine-tuned model.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { imageInputShape } from '../finetune/image-sets.js';
import { confusionSvg, finetuneSummaryHtml } from '../finetune/summary.js';
import {
  decodeFeatures,
  encodeFeatures,
  type FeatureCache,
  type FeatureMatrix,
  type FinetuneOptions,
  type FinetuneResult,
  finetune,
  type ImageSet,
  InvalidArgumentError,
} from '../index.js';
import { listImageFolder, readImageFiles } from './images.js';
import { loadLayersModelFrom, saveLayersModelTo } from './pretrained.js';

/** The function and argument named in error messages. */
export interface Caller {
  /** The function (or command) named in error messages. */
  fn: string;
  /** The argument (or flag) named in error messages. */
  argument: string;
}

/**
 * Checks that the files start like PNG or JPEG files (a few bytes each, nothing decoded), so a bad file is named
 * before any work starts.
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} naming the first bad files
 */
export async function checkImageFiles(files: readonly string[], caller: Caller): Promise<void> {
  const bad: string[] = [];
  const head = Buffer.alloc(4);
  for (const f of files) {
    let ok = false;
    try {
      const fh = await open(f, 'r');
      try {
        const { bytesRead } = await fh.read(head, 0, 4, 0);
        ok =
          bytesRead === 4 &&
          ((head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) ||
            (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff));
      } finally {
        await fh.close();
      }
    } catch {
      ok = false;
    }
    if (!ok) bad.push(f);
  }
  if (bad.length > 0) {
    throw new InvalidArgumentError(
      caller.fn,
      caller.argument,
      'readable PNG or JPEG files',
      `${bad.length} unreadable or non-image file(s): ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', ...' : ''}`,
    );
  }
}

/**
 * An {@link index!ImageSet | ImageSet} over image files: `load` decodes the requested files, resized bilinearly to
 * `size` when they differ (aspect ratio not kept). Each image's id (for the feature cache) is its absolute path,
 * byte size and modification time.
 *
 * @example
 * ```ts
 * const set = await imageSetFromFiles(files, labels, { size: [224, 224], channels: 3 });
 * ```
 */
export async function imageSetFromFiles(
  files: readonly string[],
  labels: ArrayLike<number>,
  options: { size: [number, number]; channels: 1 | 3; caller?: Caller },
): Promise<ImageSet> {
  const caller = options.caller ?? { fn: 'imageSetFromFiles', argument: 'files' };
  if (!Array.isArray(files) || labels?.length !== files.length) {
    throw new InvalidArgumentError(caller.fn, caller.argument, 'files and one label per file', files);
  }
  const ids: string[] = [];
  for (const f of files) {
    const s = await stat(f);
    ids.push(`${path.resolve(f)}|${s.size}|${s.mtimeMs}`);
  }
  const list = [...files];
  return {
    count: list.length,
    labels,
    ids,
    load: (idx) =>
      readImageFiles(
        idx.map((i) => list[i]),
        { size: options.size, channels: options.channels, caller },
      ),
  };
}

/**
 * A {@link index!FeatureCache | FeatureCache} in a folder: one TKFEATS1 file per chunk (`<key>.tkf`, written to a
 * temporary name and renamed, so a killed run never leaves half a file). Delete the folder to clear it.
 *
 * @example
 * ```ts
 * await finetune(net, data, { cache: fileFeatureCache('.cache'), cacheKey: await modelCacheKey(net) });
 * ```
 */
export function fileFeatureCache(dir: string): FeatureCache {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new InvalidArgumentError('fileFeatureCache', 'dir', 'a folder path', dir);
  }
  return {
    async get(key) {
      try {
        const f = decodeFeatures(new Uint8Array(await readFile(path.join(dir, `${key}.tkf`))));
        return f.matrices[0];
      } catch {
        return undefined;
      }
    },
    async set(key, m: FeatureMatrix) {
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `${key}.tkf`);
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, new Uint8Array(encodeFeatures([m])));
      await rename(tmp, file);
    },
  };
}

/**
 * A key that identifies a model's layers and weights (SHA-1 over each layer's class and output shape and every weight's values, names left out), for
 * {@link index!FinetuneOptions.cacheKey | FinetuneOptions.cacheKey}.
 *
 * @example
 * ```ts
 * const key = await modelCacheKey(net); // 40 hex digits
 * ```
 */
export async function modelCacheKey(model: tfl.LayersModel): Promise<string> {
  // Names are left out: tfjs numbers auto-named models and layers per process, so the same model loaded twice
  // differs in names only.
  const h = createHash('sha1');
  for (const l of model.layers) h.update(`${l.getClassName()}|${JSON.stringify(l.outputShape)}\n`);
  for (const w of model.weights) {
    const v = await w.read().data();
    h.update(`${w.shape.join('x')}|`);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return h.digest('hex');
}

/** The folders {@link finetuneFolder} reads: one folder to split, or a training and a validation folder. */
export type FinetuneFolders =
  | {
      /** One folder, split into training and validation images. */
      images: string;
    }
  | {
      /** The training folder. */
      train: string;
      /** The validation folder (class sub-folders among the training ones). */
      val: string;
    };

/** Options of {@link finetuneFolder}: those of {@link index!finetune | finetune}, plus the cache folder. */
export interface FinetuneFolderOptions extends Omit<FinetuneOptions, 'cache' | 'cacheKey'> {
  /** Folder of the feature cache (see `fileFeatureCache`). @default no cache */
  cacheDir?: string;
}

/** What {@link finetuneFolder} returns: the run and the files behind its indices. */
export interface FinetuneFolderResult {
  /** The run (see {@link index!FinetuneResult | FinetuneResult}); `classNames` are the sub-folder names. */
  result: FinetuneResult;
  /** The file of each entry of `result.val`. */
  valFiles: string[];
  /** Files left out because their extension is not .png/.jpg/.jpeg. */
  skipped: string[];
}

async function listClasses(dir: string, caller: Caller) {
  const listing = await listImageFolder(dir, caller);
  if (listing.classNames === undefined || listing.labels === undefined || listing.classNames.length < 2) {
    throw new InvalidArgumentError(
      caller.fn,
      caller.argument,
      'a folder with one sub-folder of images per class, at least two classes',
      `${dir} (${listing.classNames === undefined ? 'no sub-folders' : `only ${listing.classNames.join(', ')}`})`,
    );
  }
  const labels = listing.labels;
  const empty = listing.classNames.filter((_, k) => !labels.includes(k));
  if (empty.length > 0) {
    throw new InvalidArgumentError(
      caller.fn,
      caller.argument,
      'class sub-folders that each hold PNG/JPEG images',
      `empty: ${empty.map((c) => path.join(dir, c)).join(', ')}`,
    );
  }
  await checkImageFiles(listing.files, caller);
  return listing as typeof listing & { classNames: string[]; labels: number[] };
}

/**
 * Fine-tunes `backbone` on a folder of images with one sub-folder per class (class names = sub-folder names, sorted),
 * or on separate training and validation folders with the same class sub-folders. Images are read a chunk at a
 * time and resized bilinearly to the backbone's input size (aspect ratio not kept; grey images are repeated to RGB
 * and RGB images averaged to grey as the model's input needs). Non-image files (by extension) are skipped and
 * listed; a file with an image extension that is not a PNG/JPEG fails the run before it starts.
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} for a missing or empty folder, a single class,
 * an empty class folder, unreadable images (named), validation classes unknown to the training folder, and
 * everything {@link index!finetune | finetune} rejects
 * @example
 * ```ts
 * const net = await loadPretrained('mobilenet_v2');
 * const { result } = await finetuneFolder(net, { images: 'photos' }, { featureLayer: 'flatten_1', cacheDir: '.cache' });
 * await saveFinetuned(result, 'out/photos');
 * ```
 */
export async function finetuneFolder(
  backbone: tfl.LayersModel,
  folders: FinetuneFolders,
  options: FinetuneFolderOptions = {},
): Promise<FinetuneFolderResult> {
  const fn = 'finetuneFolder';
  const [h, w, c] = imageInputShape(fn, backbone);
  if (typeof folders !== 'object' || folders === null) {
    throw new InvalidArgumentError(fn, 'folders', '{ images } or { train, val }', folders);
  }
  const { cacheDir, ...rest } = options;
  const split = 'images' in folders;
  const train = await listClasses(split ? folders.images : folders.train, {
    fn,
    argument: split ? 'folders.images' : 'folders.train',
  });
  const io = { size: [h, w] as [number, number], channels: c as 1 | 3 };
  const trainSet = await imageSetFromFiles(train.files, train.labels, {
    ...io,
    caller: { fn, argument: 'images' },
  });
  let valSet: ImageSet | undefined;
  let valFilesAll: string[] | undefined;
  let skipped = train.skipped;
  if (!split) {
    const val = await listClasses(folders.val, { fn, argument: 'folders.val' });
    const unknown = val.classNames.filter((n) => !train.classNames.includes(n));
    if (unknown.length > 0) {
      throw new InvalidArgumentError(
        fn,
        'folders.val',
        `class sub-folders among the training classes (${train.classNames.join(', ')})`,
        unknown.join(', '),
      );
    }
    const labels = val.labels.map((l) => train.classNames.indexOf(val.classNames[l]));
    valSet = await imageSetFromFiles(val.files, labels, { ...io, caller: { fn, argument: 'folders.val' } });
    valFilesAll = val.files;
    skipped = [...skipped, ...val.skipped];
  }
  const result = await finetune(
    backbone,
    { train: trainSet, val: valSet, classNames: train.classNames },
    {
      ...rest,
      cache: cacheDir !== undefined ? fileFeatureCache(cacheDir) : undefined,
      cacheKey: cacheDir !== undefined ? await modelCacheKey(backbone) : undefined,
    },
  );
  const source = valFilesAll ?? train.files;
  return { result, valFiles: result.val.indices.map((i) => source[i]), skipped };
}

/**
 * Throws unless `dir` can be created (or replaced) as an output folder: its parent exists or can be made, is
 * writable, and `dir` is not a file. Call it before long work.
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError}
 */
export async function checkOutputFolder(dir: string, caller: Caller): Promise<void> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new InvalidArgumentError(caller.fn, caller.argument, 'a folder path', dir);
  }
  const abs = path.resolve(dir);
  const existing = await stat(abs).catch(() => undefined);
  if (existing?.isFile()) {
    throw new InvalidArgumentError(caller.fn, caller.argument, 'a folder path (not an existing file)', dir);
  }
  let parent = path.dirname(abs);
  let ps = await stat(parent).catch(() => undefined);
  while (ps === undefined) {
    parent = path.dirname(parent);
    ps = await stat(parent).catch(() => undefined);
  }
  if (!ps.isDirectory()) {
    throw new InvalidArgumentError(
      caller.fn,
      caller.argument,
      'a writable location',
      `${dir} (${parent} is a file)`,
    );
  }
  try {
    await access(parent, constants.W_OK);
    if (existing) await access(abs, constants.W_OK);
  } catch {
    throw new InvalidArgumentError(
      caller.fn,
      caller.argument,
      'a writable location',
      `${dir} (not writable)`,
    );
  }
}

/**
 * Saves a fine-tuned model into `dir`: `model.json` + `weights.bin`, `classes.json` (class names by output index),
 * `metrics.json` (metrics and epochs), `confusion.svg` and `summary.html` (with the misclassified validation images,
 * linked by relative path). Everything is written to a temporary folder beside `dir` and then renamed, so `dir` is
 * either the old one or complete; an existing `dir` is replaced.
 *
 * @param valFiles the file of each entry of `result.val` (for the summary), e.g. {@link FinetuneFolderResult.valFiles}
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} when `dir` cannot be written
 * @example
 * ```ts
 * await saveFinetuned(run.result, 'out/photos', run.valFiles);
 * ```
 */
export async function saveFinetuned(
  result: FinetuneResult,
  dir: string,
  valFiles?: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  const caller = { fn: 'saveFinetuned', argument: 'dir' };
  await checkOutputFolder(dir, caller);
  const abs = path.resolve(dir);
  const tag = `${process.pid}-${Date.now()}`;
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.tmp-${tag}`);
  const old = path.join(path.dirname(abs), `.${path.basename(abs)}.old-${tag}`);
  await mkdir(path.dirname(abs), { recursive: true });
  try {
    await saveLayersModelTo(result.model, tmp);
    await writeFile(path.join(tmp, 'classes.json'), `${JSON.stringify(result.classNames, null, 2)}\n`);
    await writeFile(
      path.join(tmp, 'metrics.json'),
      `${JSON.stringify({ ...extra, classNames: result.classNames, metrics: result.metrics, history: result.history, val: { ...result.val, files: valFiles?.map((f) => path.resolve(f)) } }, null, 2)}\n`,
    );
    await writeFile(
      path.join(tmp, 'confusion.svg'),
      confusionSvg(result.metrics.confusion, result.classNames),
    );
    const images = result.val.labels.map((_, i) => {
      const f = valFiles?.[i];
      return f === undefined
        ? { name: `#${result.val.indices[i]}`, src: '' }
        : { name: path.basename(f), src: path.relative(abs, path.resolve(f)).split(path.sep).join('/') };
    });
    await writeFile(path.join(tmp, 'summary.html'), finetuneSummaryHtml(result, images));
    const had = await stat(abs).catch(() => undefined);
    if (had) await rename(abs, old);
    await rename(tmp, abs);
    if (had) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (e instanceof InvalidArgumentError) throw e;
    throw new InvalidArgumentError(
      caller.fn,
      caller.argument,
      'a writable folder',
      `${dir} (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

/** A fine-tuned model loaded back by {@link loadFinetuned}. */
export interface LoadedFinetuned {
  /** The classifier: images `[batch, h, w, c]` in [0, 1] -> class probabilities. */
  model: tfl.LayersModel;
  /** Class name of each output unit. */
  classNames: string[];
  /** `[height, width, channels]` the model takes. */
  inputShape: [number, number, number];
}

/**
 * Loads a folder written by {@link saveFinetuned} (`model.json`, `weights.bin`, `classes.json`).
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} when the folder lacks those files or they disagree
 */
export async function loadFinetuned(dir: string): Promise<LoadedFinetuned> {
  const fn = 'loadFinetuned';
  let classNames: unknown;
  try {
    classNames = JSON.parse(await readFile(path.join(dir, 'classes.json'), 'utf8'));
  } catch {
    throw new InvalidArgumentError(fn, 'dir', 'a folder written by finetune (with classes.json)', dir);
  }
  if (!Array.isArray(classNames) || classNames.some((c) => typeof c !== 'string')) {
    throw new InvalidArgumentError(fn, 'dir', 'a classes.json holding an array of names', classNames);
  }
  const model = await loadLayersModelFrom(path.join(dir, 'model.json'));
  const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  let inputShape: [number, number, number];
  try {
    inputShape = imageInputShape(fn, model);
  } catch (e) {
    model.dispose();
    throw e;
  }
  if (units !== classNames.length) {
    model.dispose();
    throw new InvalidArgumentError(fn, 'dir', `${units} class names in classes.json`, classNames.length);
  }
  return { model, classNames: classNames as string[], inputShape };
}

/** One image's top classes, from {@link predictFiles}. */
export interface FilePrediction {
  /** The image file. */
  file: string;
  /** The `topK` most probable classes, most probable first. */
  top: {
    /** The class name. */
    className: string;
    /** Its probability. */
    probability: number;
  }[];
}

/**
 * Classifies image files with a loaded fine-tuned model (a chunk at a time; images resized to the model's input).
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} for unreadable files (named) or a bad `topK`
 * @example
 * ```ts
 * const m = await loadFinetuned('out/photos');
 * const preds = await predictFiles(m, ['a.jpg'], { topK: 3 });
 * ```
 */
export async function predictFiles(
  loaded: LoadedFinetuned,
  files: readonly string[],
  options: { topK?: number; chunkSize?: number } = {},
): Promise<FilePrediction[]> {
  const fn = 'predictFiles';
  const k = loaded.classNames.length;
  const topK = Math.min(options.topK ?? 1, k);
  if (!Number.isInteger(topK) || topK < 1) {
    throw new InvalidArgumentError(fn, 'options.topK', 'an integer >= 1', options.topK);
  }
  await checkImageFiles(files, { fn, argument: 'files' });
  const [h, w, c] = loaded.inputShape;
  const chunk = options.chunkSize ?? 64;
  const out: FilePrediction[] = [];
  for (let start = 0; start < files.length; start += chunk) {
    const part = files.slice(start, start + chunk);
    const x = await readImageFiles(part, {
      size: [h, w],
      channels: c as 1 | 3,
      caller: { fn, argument: 'files' },
    });
    const p = tf.tidy(() => loaded.model.predict(x) as tf.Tensor);
    x.dispose();
    const probs = await p.data();
    p.dispose();
    part.forEach((file, i) => {
      const row = Array.from(probs.subarray(i * k, (i + 1) * k));
      const order = row.map((_, j) => j).sort((a, b) => row[b] - row[a] || a - b);
      out.push({
        file,
        top: order.slice(0, topK).map((j) => ({ className: loaded.classNames[j], probability: row[j] })),
      });
    });
  }
  return out;
}
