/**
 * Things several report sections need, created once per run through `ctx.shared`:
 * - `'mnist'`: the MNIST split of the run (all ten digits, 80/20 stratified, seeded with `ctx.seed`);
 * - `'cnn:mnist'`: the reference Zeiler-Fergus-style CNN trained on that split's training part, cached on disk in
 *   `ctx.cacheDir/models/cnn-mnist` so that later runs (and other sections) load it instead of retraining.
 *
 * It also holds the report's one disk cache of trained models, {@link cachedModel}: a section names a model, states
 * what its training depends on (a JSON key), and either gets the model an earlier run saved with the same key or
 * trains and saves it.
 *
 * And it counts what those shared values hold on the device ({@link tensorsHeldBy}), so that the runner's "live
 * tensors" line after a section tells the tensors kept on purpose for later sections (the MNIST split, the
 * reference CNN's weights: 12 tensors, 30.4 MB in quick mode) from a leak.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  type Evaluation,
  evaluateClassifier,
  type TrainHistory,
  trainClassifier,
  type ZeilerFergusCnnOptions,
  zeilerFergusCnn,
} from '../index.js';
import { loadLayersModelFrom, loadMnist, type MnistSplit, saveLayersModelTo } from '../node.js';
import type { ReportContext, ReportMode } from './types.js';

/** The `ctx.shared` key of {@link sharedMnist}. */
export const MNIST_KEY = 'mnist';
/** The `ctx.shared` key of {@link sharedReferenceCnn}. */
export const CNN_KEY = 'cnn:mnist';

/**
 * The MNIST split every section shares: all ten digits of the `mnist` package, 20% of each class held out,
 * seeded with `ctx.seed` (8,000 train / 2,000 test). Disposed by the runner at the end of the run.
 *
 * @example
 * ```ts
 * const mnist = await sharedMnist(ctx);
 * ```
 */
export function sharedMnist(ctx: Pick<ReportContext, 'seed' | 'shared'>): Promise<MnistSplit> {
  return ctx.shared(MNIST_KEY, () => loadMnist({ seed: ctx.seed, testFraction: 0.2 }));
}

/** How the reference CNN is built and trained in each mode. */
export interface ReferenceCnnConfig {
  /** Architecture options of `zeilerFergusCnn`. */
  architecture: ZeilerFergusCnnOptions;
  /** Epochs over the 8,000 training digits. */
  epochs: number;
  /** Mini-batch size. */
  batchSize: number;
  /** Adam learning rate. */
  lr: number;
}

/**
 * The training recipe of the reference CNN: `quick` 2 epochs (about a minute on wasm with the training kernels),
 * `full` 8 epochs.
 *
 * @example
 * ```ts
 * referenceCnnConfig('quick').epochs; // 2
 * ```
 */
export function referenceCnnConfig(mode: ReportMode): ReferenceCnnConfig {
  return {
    architecture: {
      inputShape: [28, 28, 1],
      numClasses: 10,
      filters: [16, 32],
      kernelSizes: [5, 3],
      hidden: [128],
    },
    epochs: mode === 'full' ? 8 : 2,
    batchSize: 64,
    lr: 2e-3,
  };
}

/** The trained reference CNN shared by sections. */
export interface ReferenceCnn {
  /** The trained model (outputs logits). Owned by the runner: do not dispose it in a section. */
  model: tfl.LayersModel;
  /** The recipe it was trained with. */
  config: ReferenceCnnConfig;
  /** Its learning curve. */
  history: TrainHistory;
  /** Loss and accuracy on the shared MNIST test part. */
  test: Evaluation;
  /** The backend it was trained on. */
  backend: string;
  /** Training loss and accuracy averaged over each run of `curveEvery` batches (x: examples seen). */
  curve: { examples: number; loss: number; acc: number }[];
  /** Whether it was loaded from `ctx.cacheDir` instead of trained in this run. */
  fromCache: boolean;
  /** Frees the model (the runner calls it at the end of the run). */
  dispose(): void;
}

interface CnnMeta {
  config: ReferenceCnnConfig;
  history: TrainHistory;
  test: Evaluation;
  backend: string;
  curve: { examples: number; loss: number; acc: number }[];
}

/** A model from {@link cachedModel}: trained in this run, or loaded from an earlier run's cache. */
export interface CachedModel<M> {
  /** The model (owned by the caller: dispose it). */
  model: tfl.LayersModel;
  /** What `train` returned beside the model (e.g. its test accuracy), saved with it as JSON. */
  meta: M;
  /** Whether the model was loaded from `ctx.cacheDir` instead of trained in this run. */
  fromCache: boolean;
}

/** The file layout of one cached model: `<dir>/model.json` + weights, `<dir>/cache.json` (`{ key, meta }`). */
interface CacheEntry {
  key: string;
  meta: unknown;
}

/**
 * The report's disk cache of trained models: `ctx.cacheDir/models/<name>/` holds the model and a JSON file with
 * `key` (what the training depended on: recipe, data sizes, seeds) and `meta` (what `train` returned beside the
 * model). When the folder holds a model saved under the same key it is loaded; otherwise `train` runs and its model
 * and meta are saved (a model built with shared layers is saved as the one model it is). `ctx.cacheDir` is
 * per mode and seed, and `--fresh` empties it.
 *
 * @param name folder name under `models/` (letters, digits, `-`, `_`, `.`)
 * @param key anything JSON-serialisable that determines the trained weights
 * @param train trains the model; it owns the model until it returns
 * @example
 * ```ts
 * const { model, meta, fromCache } = await cachedModel(ctx, 'deconvnet-scenes', { epochs: 6, seed: ctx.seed },
 *   async () => ({ model: await trainSceneModel(), meta: { accuracy: 0.9 } }));
 * ```
 */
export async function cachedModel<M>(
  ctx: Pick<ReportContext, 'cacheDir' | 'log'>,
  name: string,
  key: unknown,
  train: () => Promise<{ model: tfl.LayersModel; meta: M }>,
): Promise<CachedModel<M>> {
  if (!/^[\w.-]+$/.test(name)) {
    throw new RangeError(
      `\`cachedModel\` needs a name of letters, digits, '-', '_' or '.', got ${JSON.stringify(name)}`,
    );
  }
  const dir = path.join(ctx.cacheDir, 'models', name);
  const entryFile = path.join(dir, 'cache.json');
  const keyText = JSON.stringify(key);
  if (existsSync(entryFile) && existsSync(path.join(dir, 'model.json'))) {
    const entry = JSON.parse(await readFile(entryFile, 'utf8')) as CacheEntry;
    if (entry.key === keyText) {
      const model = await loadLayersModelFrom(path.join(dir, 'model.json'));
      ctx.log(`${name}: model loaded from ${dir}`);
      return { model, meta: entry.meta as M, fromCache: true };
    }
  }
  const { model, meta } = await train();
  try {
    await saveLayersModelTo(model, dir);
    await mkdir(dir, { recursive: true });
    await writeFile(entryFile, JSON.stringify({ key: keyText, meta } satisfies CacheEntry));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, meta, fromCache: false };
}

/**
 * The reference CNN trained on the shared MNIST split, created once per run; loaded from
 * `ctx.cacheDir/models/cnn-mnist` when an earlier run of the same mode and seed saved it. Training reports progress
 * through `ctx.progress` (phases `cnn train`, `cnn epoch`).
 *
 * @example
 * ```ts
 * const { model, test } = await sharedReferenceCnn(ctx);
 * ctx.log(`reference CNN: ${(test.accuracy * 100).toFixed(2)}%`);
 * ```
 */
export function sharedReferenceCnn(ctx: ReportContext): Promise<ReferenceCnn> {
  return ctx.shared(CNN_KEY, async () => {
    const mnist = await sharedMnist(ctx);
    const config = referenceCnnConfig(ctx.mode);
    const { model, meta, fromCache } = await cachedModel<CnnMeta>(ctx, 'cnn-mnist', config, async () => {
      const model = zeilerFergusCnn({ ...config.architecture, seed: ctx.seed });
      const curve: CnnMeta['curve'] = [];
      const every = 10;
      let acc = { loss: 0, acc: 0, n: 0 };
      try {
        const history = await trainClassifier(model, mnist.train.x, mnist.train.y, {
          epochs: config.epochs,
          batchSize: config.batchSize,
          learningRate: config.lr,
          seed: ctx.seed,
          validation: { x: mnist.test.x, y: mnist.test.y },
          onProgress: (e) => {
            ctx.progress({ ...e, phase: `cnn ${e.phase}` });
            if (e.phase !== 'train' || e.metrics === undefined) return;
            acc = { loss: acc.loss + e.metrics.loss, acc: acc.acc + e.metrics.acc, n: acc.n + 1 };
            if (acc.n === every || e.done === e.total) {
              const examples = Math.min(e.done * config.batchSize, mnist.train.size * config.epochs);
              curve.push({ examples, loss: acc.loss / acc.n, acc: acc.acc / acc.n });
              acc = { loss: 0, acc: 0, n: 0 };
            }
          },
        });
        const test = await evaluateClassifier(model, { x: mnist.test.x, labels: mnist.test.y });
        return { model, meta: { config, history, test, backend: ctx.backend, curve } };
      } catch (e) {
        model.dispose();
        throw e;
      }
    });
    return { model, ...meta, fromCache, dispose: () => model.dispose() };
  });
}

/** What the values memoised by `ctx.shared` hold on the device, from {@link tensorsHeldBy}. */
export interface HeldTensors {
  /** Tensors (model weights included) reachable from the values. */
  tensors: number;
  /** Their bytes (each data buffer once). */
  bytes: number;
  /** The keys of the values that hold at least one tensor. */
  keys: string[];
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/**
 * Counts the live tensors reachable from the values memoised by `ctx.shared` (key -> value): tensors, the weights
 * of models (anything with `getWeights()`), and what plain objects and arrays hold, a few levels deep (typed
 * arrays and other class instances are not searched). A tensor reached twice counts once.
 *
 * @example
 * ```ts
 * tensorsHeldBy(new Map([['mnist', split]])); // { tensors: 4, bytes: 31400000, keys: ['mnist'] }
 * ```
 */
export function tensorsHeldBy(values: ReadonlyMap<string, unknown>): HeldTensors {
  const tensors = new Set<number>();
  const buffers = new Set<unknown>();
  let bytes = 0;
  const keys: string[] = [];
  const seen = new Set<object>();
  const add = (t: tf.Tensor): boolean => {
    if (t.isDisposed || tensors.has(t.id)) return false;
    tensors.add(t.id);
    if (!buffers.has(t.dataId)) {
      buffers.add(t.dataId);
      bytes += t.size * (BYTES_PER_ELEMENT[t.dtype] ?? 0);
    }
    return true;
  };
  const visit = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v !== 'object' || seen.has(v) || depth > 6) return false;
    seen.add(v);
    if (v instanceof tf.Tensor) return add(v);
    let found = false;
    const model = v as { getWeights?: () => tf.Tensor[] };
    if (typeof model.getWeights === 'function') {
      try {
        for (const w of model.getWeights()) found = add(w) || found;
      } catch {
        // a disposed model holds nothing
      }
      return found;
    }
    const proto = Object.getPrototypeOf(v);
    if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return false;
    // Data properties only: a getter may build what it returns (an ImageSplit part's lazy `x` / `y` tensors), and
    // counting must not allocate.
    for (const d of Object.values(Object.getOwnPropertyDescriptors(v))) {
      if ('value' in d) found = visit(d.value, depth + 1) || found;
    }
    return found;
  };
  for (const [key, value] of values) if (visit(value, 0)) keys.push(key);
  return { tensors: tensors.size, bytes, keys };
}

/**
 * The runner's note on the live tensors after a section: how many, and how many of them the `ctx.shared` values
 * hold (kept for later sections, freed at the end of the run or with the worker thread); the rest, beyond what was
 * live before the first section (`baseline`), is named as a leak.
 *
 * @example
 * ```ts
 * liveTensorsNote({ numTensors: 12, numBytes: 31835496 }, { tensors: 12, bytes: 31835496, keys: ['mnist', 'cnn:mnist'] });
 * // 'live tensors 12, 30.4 MB, all held by ctx.shared for later sections (mnist, cnn:mnist)'
 * ```
 */
export function liveTensorsNote(
  live: { numTensors: number; numBytes: number },
  held: HeldTensors,
  baseline = 0,
): string {
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  const head = `live tensors ${live.numTensors}, ${mb(live.numBytes)}`;
  const others = live.numTensors - baseline - held.tensors;
  const keys = held.keys.length > 0 ? ` (${held.keys.join(', ')})` : '';
  if (others === 0) {
    return held.tensors === 0
      ? `${head}, none left by the sections`
      : `${head}, all held by ctx.shared for later sections${keys}${baseline > 0 ? ` beside ${baseline} from before the first section` : ''}`;
  }
  return `${head}: ${held.tensors} held by ctx.shared${keys}, ${others} ${others > 0 ? 'NOT held by it (a leak)' : 'fewer than before the first section'}`;
}
