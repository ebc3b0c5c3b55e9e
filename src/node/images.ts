/**
 * Folders of PNG/JPEG images as tensors: one sub-folder per class (labels), or images directly in the folder.
 *
 * @module
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import jpeg from 'jpeg-js';
import { checkInteger, checkOneOf, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
import { LIMITS } from '../core/limits.js';
import { InvalidArgumentError } from '../index.js';
import { decodePng } from './png.js';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

/** Options of {@link readImageFolder}. */
export interface ReadImageFolderOptions {
  /** `[height, width]` of the output; images of another size are resized bilinearly. */
  size: [number, number];
  /** 1: grey (the mean of R, G and B); 3: RGB. Alpha is dropped. */
  channels: 1 | 3;
  /**
   * Most pixels one image may declare (checked in its header, before decoding).
   * @default LIMITS.maxPixels (100 megapixels)
   */
  maxPixels?: number;
  /**
   * The function and argument named in error messages, e.g. `{ fn: 'transferkit deconv', argument: '--images' }`.
   *
   * @default { fn: 'readImageFolder', argument: 'dir' }
   */
  caller?: {
    /** The function (or command) named in error messages. */
    fn: string;
    /** The argument (or flag) named in error messages. */
    argument: string;
  };
}

/** What {@link readImageFolder} returns. */
export interface ImageFolder {
  /** `[N, height, width, channels]` float32 pixels in [0, 1]. The caller owns (and disposes) it. */
  x: tf.Tensor4D;
  /** Class ids (the index of the sub-folder in `classNames`), or `undefined` when the images lie directly in `dir`. */
  labels?: number[];
  /** The sub-folder names, sorted: class id `i` is `classNames[i]`. `undefined` without sub-folders. */
  classNames?: string[];
  /** The image files, in the order of `x`. */
  files: string[];
}

/** Decodes one PNG/JPEG file to RGBA bytes (the format is chosen by the file extension). Internal. */
export async function decodeImageFile(
  file: string,
  fn: string,
  argument: string,
  maxPixels: number = LIMITS.maxPixels,
): Promise<{ width: number; height: number; data: Uint8Array | Uint8ClampedArray }> {
  try {
    const bytes = await readFile(file);
    if (path.extname(file).toLowerCase() === '.png') return decodePng(bytes, { maxPixels });
    return jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxPixels / 1e6 });
  } catch (e) {
    throw new InvalidArgumentError(
      fn,
      argument,
      'readable PNG or JPEG images',
      `${file} (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

/** Code-unit order: the same on every machine and locale (`localeCompare` is not). */
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What `listImageFolder` returns: the image files of a folder and their classes, nothing decoded yet. */
export interface ImageFolderListing {
  /** The image files (`.png`, `.jpg`, `.jpeg`), sorted by class then name. */
  files: string[];
  /** Class id of each file, or `undefined` when the images lie directly in the folder. */
  labels?: number[];
  /** The sub-folder names, sorted: class id `i` is `classNames[i]`. `undefined` without sub-folders. */
  classNames?: string[];
  /** Other files found (not images by their extension), which are left out. */
  skipped: string[];
}

/**
 * Lists a folder of PNG/JPEG images without decoding them: with sub-folders, each is a class (sorted by name in
 * code-unit order, the same on every machine and locale, so `B` comes before `a`; class id = index); otherwise the
 * images directly in `dir`, unlabelled. Files are sorted the same way. Every reader of image folders in transferkit
 * (the CLI commands included) numbers folders through this function; files with another
 * extension are listed in `skipped`. {@link readImageFiles} decodes the files (e.g. a chunk at a time).
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} when `dir` is not an existing folder or holds no
 *   images
 * @example
 * ```ts
 * const { files, labels, classNames } = await listImageFolder('photos');
 * ```
 */
export async function listImageFolder(
  dir: string,
  caller: { fn: string; argument: string } = { fn: 'listImageFolder', argument: 'dir' },
): Promise<ImageFolderListing> {
  const { fn, argument } = caller;
  const isDir =
    typeof dir === 'string' &&
    (await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    ));
  if (!isDir) throw new InvalidArgumentError(fn, argument, 'an existing folder', dir);
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => byName(a.name, b.name));
  const subdirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const files: { file: string; label?: number }[] = [];
  const skipped: string[] = [];
  if (subdirs.length > 0) {
    for (let k = 0; k < subdirs.length; k++) {
      for (const f of (await readdir(path.join(dir, subdirs[k]))).sort(byName)) {
        const file = path.join(dir, subdirs[k], f);
        if (IMAGE_EXT.has(path.extname(f).toLowerCase())) files.push({ file, label: k });
        else skipped.push(file);
      }
    }
  } else {
    for (const e of entries) {
      if (!e.isFile()) continue;
      if (IMAGE_EXT.has(path.extname(e.name).toLowerCase())) files.push({ file: path.join(dir, e.name) });
      else skipped.push(path.join(dir, e.name));
    }
  }
  if (files.length === 0) {
    throw new InvalidArgumentError(
      fn,
      argument,
      'a folder with PNG/JPEG images (directly, or in one sub-folder per class)',
      dir,
    );
  }
  return {
    files: files.map((f) => f.file),
    labels: subdirs.length > 0 ? files.map((f) => f.label as number) : undefined,
    classNames: subdirs.length > 0 ? subdirs : undefined,
    skipped,
  };
}

/** The known keys of {@link ReadImageFolderOptions}. */
const READ_IMAGE_FOLDER_OPTION_KEYS = knownKeys<ReadImageFolderOptions>({
  size: true,
  channels: true,
  maxPixels: true,
  caller: true,
});

/** Checks the options of {@link readImageFiles} / {@link readImageFolder} before any file is read. */
function checkReadOptions(
  fn: string,
  options: ReadImageFolderOptions,
): { h: number; w: number; maxPixels: number } {
  checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', checkOptions(fn, 'options', options), READ_IMAGE_FOLDER_OPTION_KEYS);
  if (!Array.isArray(options.size) || options.size.length !== 2) {
    throw new InvalidArgumentError(fn, 'options.size', '[height, width], positive integers', options.size);
  }
  const [h, w] = options.size;
  checkOneOf(fn, 'options.channels', options.channels, [1, 3]);
  const maxPixels = options.maxPixels ?? LIMITS.maxPixels;
  checkInteger(fn, 'options.maxPixels', maxPixels, 1);
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1 || h * w > maxPixels) {
    throw new InvalidArgumentError(
      fn,
      'options.size',
      `[height, width], positive integers with height * width <= ${maxPixels}`,
      options.size,
    );
  }
  return { h, w, maxPixels };
}

/**
 * Decodes PNG/JPEG files into one `[N, height, width, channels]` float32 tensor in [0, 1]: grey = mean of RGB,
 * alpha dropped, images of another size resized bilinearly (aspect ratio not kept).
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} naming the file that cannot be decoded (nothing
 *   is left allocated)
 * @example
 * ```ts
 * const x = await readImageFiles(['a.png', 'b.jpg'], { size: [224, 224], channels: 3 });
 * ```
 */
export async function readImageFiles(
  files: readonly string[],
  options: ReadImageFolderOptions,
): Promise<tf.Tensor4D> {
  const { fn, argument } = options?.caller ?? { fn: 'readImageFiles', argument: 'files' };
  const { h, w, maxPixels } = checkReadOptions(fn, options);
  const c = options.channels;
  if (!Array.isArray(files) || files.length === 0)
    throw new InvalidArgumentError(fn, argument, 'at least one image file', files);
  const images: tf.Tensor3D[] = [];
  try {
    for (const file of files) {
      const img = await decodeImageFile(file, fn, argument, maxPixels);
      images.push(
        tf.tidy(() => {
          const rgba = tf.tensor3d(Int32Array.from(img.data), [img.height, img.width, 4], 'int32');
          const rgb = tf.cast(tf.slice(rgba, [0, 0, 0], [-1, -1, 3]), 'float32');
          const chans = c === 1 ? tf.mean(rgb, 2, true) : rgb;
          const sized =
            img.height === h && img.width === w
              ? chans
              : tf.image.resizeBilinear(chans as tf.Tensor3D, [h, w]);
          return tf.div(sized, 255) as tf.Tensor3D;
        }),
      );
    }
    return tf.stack(images) as tf.Tensor4D;
  } finally {
    tf.dispose(images);
  }
}

/**
 * Reads a folder of PNG/JPEG images (`.png`, `.jpg`, `.jpeg`) into one tensor. With sub-folders, each is a class
 * (sorted by name; class id = index) and its images are labelled with it; otherwise the images directly in `dir` are
 * read, unlabelled. Files are sorted by name. Each image becomes `[height, width, channels]` (grey = mean of RGB),
 * resized bilinearly when its size differs, and scaled to [0, 1]. (`listImageFolder` + {@link readImageFiles}.)
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} when `dir` is not an existing folder, holds no images, or an image cannot be
 *   decoded
 * @example
 * ```ts
 * // digits/0/*.png, digits/1/*.png, ...
 * const { x, labels, classNames } = await readImageFolder('digits', { size: [28, 28], channels: 1 });
 * // x: [N, 28, 28, 1] in [0, 1]; labels[i] indexes classNames
 * x.dispose();
 * ```
 */
export async function readImageFolder(dir: string, options: ReadImageFolderOptions): Promise<ImageFolder> {
  const caller = options?.caller ?? { fn: 'readImageFolder', argument: 'dir' };
  checkReadOptions(caller.fn, options);
  const listing = await listImageFolder(dir, caller);
  const x = await readImageFiles(listing.files, { ...options, caller });
  return { x, labels: listing.labels, classNames: listing.classNames, files: listing.files };
}
