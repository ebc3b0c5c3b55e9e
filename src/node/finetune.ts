/**
 * {@link index!finetune | finetune} on folders of images (one sub-folder per class). The image files and the feature
 * cache are in `finetune-files.ts`; saving, loading and applying the fine-tuned model in `finetune-model.ts`.
 *
 * @module
 */
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { imageInputShape } from '../finetune/image-sets.js';
import {
  type FinetuneOptions,
  type FinetuneResult,
  finetune,
  type ImageSet,
  InvalidArgumentError,
} from '../index.js';
import {
  type Caller,
  checkImageFiles,
  fileFeatureCache,
  imageSetFromFiles,
  modelCacheKey,
} from './finetune-files.js';
import { listImageFolder } from './images.js';

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
