/**
 * Feature files on disk (Node): the browser-safe `encodeFeatures` / `decodeFeatures` format written to and read
 * from a path, so that features are extracted once and reused (`transferkit features` writes them, `transferkit
 * svm` reads them).
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { rawValue } from '../core/describe.js';
import {
  decodeFeatures,
  encodeFeatures,
  type FeatureMatrix,
  type FeaturesFile,
  InvalidArgumentError,
} from '../index.js';
import { writeFileAtomic } from './shards.js';

/**
 * Writes feature matrices (plus optional labels and JSON metadata) to `file` in the documented feature format
 * (magic `TKFEATS1`, JSON header, float32 little-endian data); creates the folder. The file is written atomically
 * (a temporary file in the same folder, then a rename): a reader sees the old file or the new one, never a part.
 *
 * @example
 * ```ts
 * import { saveFeatures } from 'transferkit/node';
 * await saveFeatures('out/digits.tkf', await fx.extractAll(images), { labels, meta: { tap: 'fc1' } });
 * ```
 */
export async function saveFeatures(
  file: string,
  matrices: readonly FeatureMatrix[],
  options: { labels?: ArrayLike<number>; meta?: Record<string, unknown> } = {},
): Promise<void> {
  if (typeof file !== 'string' || file.length === 0) {
    throw new InvalidArgumentError('saveFeatures', 'file', 'a file path', file);
  }
  const buf = encodeFeatures(matrices, options);
  await writeFileAtomic(file, new Uint8Array(buf));
}

/**
 * Reads a feature file written by {@link saveFeatures} (or by `encodeFeatures` anywhere).
 *
 * @example
 * ```ts
 * import { loadFeatures } from 'transferkit/node';
 * const { matrices, labels, meta } = await loadFeatures('out/digits.tkf');
 * ```
 */
export async function loadFeatures(file: string): Promise<FeaturesFile> {
  if (typeof file !== 'string' || file.length === 0) {
    throw new InvalidArgumentError('loadFeatures', 'file', 'a file path', file);
  }
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new InvalidArgumentError(
      'loadFeatures',
      'file',
      'a readable feature file',
      rawValue(`${JSON.stringify(file)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`),
    );
  }
  return decodeFeatures(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
}
