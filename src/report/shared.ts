/**
 * Things several report sections need, created once per run through `ctx.shared`:
 * - `'mnist'`: the MNIST split of the run (all ten digits, 80/20 stratified, seeded with `ctx.seed`);
 * - `'cnn:mnist'`: the reference Zeiler-Fergus-style CNN trained on that split's training part, cached on disk in
 *   `ctx.cacheDir/models/cnn-mnist` so that later runs (and other sections) load it instead of retraining.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
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
    const dir = path.join(ctx.cacheDir, 'models', 'cnn-mnist');
    const metaFile = path.join(dir, 'meta.json');
    const config = referenceCnnConfig(ctx.mode);
    if (existsSync(metaFile) && existsSync(path.join(dir, 'model.json'))) {
      const meta = JSON.parse(await readFile(metaFile, 'utf8')) as CnnMeta;
      if (JSON.stringify(meta.config) === JSON.stringify(config)) {
        const model = await loadLayersModelFrom(path.join(dir, 'model.json'));
        ctx.log(`reference CNN loaded from ${dir}`);
        return { model, ...meta, fromCache: true, dispose: () => model.dispose() };
      }
    }
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
      const meta: CnnMeta = { config, history, test, backend: ctx.backend, curve };
      await saveLayersModelTo(model, dir);
      await mkdir(dir, { recursive: true });
      await writeFile(metaFile, JSON.stringify(meta));
      return { model, ...meta, fromCache: false, dispose: () => model.dispose() };
    } catch (e) {
      model.dispose();
      throw e;
    }
  });
}
