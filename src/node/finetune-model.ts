/**
 * A fine-tuned model's folder: the check of an output folder, saving the model with its classes, summary page and
 * confusion figure, loading it back, and predicting image files with it.
 *
 * @module
 */
import { constants } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { imageInputShape } from '../finetune/image-sets.js';
import { confusionSvg, finetuneSummaryHtml } from '../finetune/summary.js';
import { type FinetuneResult, InvalidArgumentError } from '../index.js';
import { type Caller, checkImageFiles } from './finetune-files.js';
import { readImageFiles } from './images.js';
import { loadLayersModelFrom, saveLayersModelTo } from './pretrained.js';

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
