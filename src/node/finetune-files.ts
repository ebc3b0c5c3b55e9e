/**
 * Image files for fine-tuning on folders: the caller named in errors, the check of a file list, an {@link ImageSet}
 * over files (read in batches), a feature cache on disk and the model's cache key.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  decodeFeatures,
  encodeFeatures,
  type FeatureCache,
  type FeatureMatrix,
  type ImageSet,
  InvalidArgumentError,
} from '../index.js';
import { readImageFiles } from './images.js';

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
