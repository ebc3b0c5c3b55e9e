/**
 * `transferkit finetune`: transfer learning on a folder of your own images (one sub-folder per class) in one command:
 * the backbone's features once (cached), a new head, optionally the top stages fine-tuned end to end; the model,
 * class names, metrics, a confusion matrix and an HTML summary are written to `--out`.
 *
 *   transferkit finetune --model mobilenet_v2 --images photos --out out/photos
 *   transferkit finetune --model my/model.json --train data/train --val data/val --unfreeze 2 --augment
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Command, Option } from 'commander';
import { type FinetuneEpoch, InvalidArgumentError } from '../index.js';
import { checkOutputFolder } from '../internal.js';
import {
  finetuneFolder,
  initBackend,
  loadLayersModelFrom,
  loadPretrained,
  PRETRAINED_MODELS,
  saveFinetuned,
} from '../node.js';
import { terminalProgress } from '../report/progress.js';
import { parseInteger, parseNumber } from './parse.js';

/** Options of {@link runFinetuneCommand} (the command's flags). */
export interface FinetuneCliOptions {
  /** `mobilenet_v2`, `inception_v3` (optionally `pretrained:`-prefixed) or the path of a layers model.json. */
  model: string;
  /** One folder, split into train and validation. */
  images?: string;
  /** Training folder (with `val`). */
  train?: string;
  /** Validation folder (with `train`). */
  val?: string;
  /** Feature layer (name or index); default: the pretrained model's, else -2. */
  featureLayer?: string;
  /** Backbone stages to fine-tune end to end. */
  unfreeze: number;
  /** Augment training images (flips, crops). */
  augment: boolean;
  /** Head epochs. */
  epochs: number;
  /** Fine-tuning epochs. */
  fineTuneEpochs: number;
  /** Batch size. */
  batchSize: number;
  /** Head learning rate. */
  learningRate: number;
  /** Held-out fraction when only `images` is given. */
  valFraction: number;
  /** Output folder. */
  out: string;
  /** Feature cache folder; `false` for none (`true` or absent: `.transferkit-cache` beside `out`). */
  cache?: string | boolean;
  /** Seed. */
  seed: number;
  /** tfjs backend. */
  backend: string;
  /** Draw progress bars. */
  progress: boolean;
}

/** Loads `--model`: a bundled pretrained backbone by name, or a layers model.json. */
export async function loadBackbone(spec: string): Promise<{ model: tfl.LayersModel; featureLayer?: string }> {
  const name = spec.startsWith('pretrained:') ? spec.slice('pretrained:'.length) : spec;
  if (name === 'mobilenet_v2' || name === 'inception_v3') {
    return { model: await loadPretrained(name), featureLayer: PRETRAINED_MODELS[name].featureLayer };
  }
  if (spec.startsWith('pretrained:')) {
    throw new InvalidArgumentError(
      'transferkit finetune',
      '--model',
      "'mobilenet_v2' or 'inception_v3'",
      spec,
    );
  }
  return { model: await loadLayersModelFrom(spec) };
}

function epochLine(e: FinetuneEpoch): string {
  const acc = Number.isNaN(e.valAccuracy) ? 'n/a' : `${(100 * e.valAccuracy).toFixed(1)}%`;
  const vl = Number.isNaN(e.valLoss) ? 'n/a' : e.valLoss.toFixed(4);
  return `${e.stage} epoch ${e.epoch}/${e.epochs}: loss ${e.loss.toFixed(4)}  val loss ${vl}  val acc ${acc}  (${e.seconds.toFixed(1)} s)`;
}

/** Runs the command (exported for tests); returns what it wrote to `<out>/metrics.json`'s `metrics`. */
export async function runFinetuneCommand(opts: FinetuneCliOptions): Promise<Record<string, unknown>> {
  const fn = 'transferkit finetune';
  const split = opts.images !== undefined;
  if (split === (opts.train !== undefined || opts.val !== undefined)) {
    throw new InvalidArgumentError(
      fn,
      '--images / --train --val',
      '--images, or both --train and --val',
      undefined,
    );
  }
  if (!split && (opts.train === undefined || opts.val === undefined)) {
    throw new InvalidArgumentError(fn, '--train / --val', 'both folders', opts.train ?? opts.val);
  }
  // Cheap checks first: a typo in a path fails before the backend and the model load.
  for (const [flag, dir] of [
    ['--images', opts.images],
    ['--train', opts.train],
    ['--val', opts.val],
  ] as const) {
    if (
      dir !== undefined &&
      !(await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    ) {
      throw new InvalidArgumentError(fn, flag, 'an existing folder', dir);
    }
  }
  await checkOutputFolder(opts.out, { fn, argument: '--out' });
  await initBackend(opts.backend);
  const { model, featureLayer: defaultLayer } = await loadBackbone(opts.model);
  const sink = terminalProgress({ bars: opts.progress });
  try {
    const layer =
      opts.featureLayer === undefined
        ? (defaultLayer ?? -2)
        : /^-?\d+$/.test(opts.featureLayer)
          ? Number(opts.featureLayer)
          : opts.featureLayer;
    const run = await finetuneFolder(
      model,
      split ? { images: opts.images as string } : { train: opts.train as string, val: opts.val as string },
      {
        featureLayer: layer,
        unfreeze: opts.unfreeze,
        augment: opts.augment,
        epochs: opts.epochs,
        fineTuneEpochs: opts.fineTuneEpochs,
        batchSize: opts.batchSize,
        learningRate: opts.learningRate,
        valFraction: opts.valFraction,
        seed: opts.seed,
        cacheDir:
          opts.cache === false
            ? undefined
            : typeof opts.cache === 'string'
              ? opts.cache
              : path.join(path.dirname(path.resolve(opts.out)), '.transferkit-cache'),
        onProgress: (e) => sink.update('finetune', e),
        onEpoch: (e) => sink.log(epochLine(e)),
      },
    );
    sink.stop();
    try {
      if (run.skipped.length > 0) {
        process.stderr.write(
          `skipped ${run.skipped.length} non-image file(s): ${run.skipped.slice(0, 3).join(', ')}${run.skipped.length > 3 ? ', ...' : ''}\n`,
        );
      }
      await saveFinetuned(run.result, opts.out, run.valFiles, {
        model: opts.model,
        images: opts.images,
        train: opts.train,
        val: opts.val,
        seed: opts.seed,
      });
      const m = run.result.metrics;
      process.stdout.write(
        `${m.counts.train} training / ${m.counts.val} validation images, ${run.result.classNames.length} classes: val accuracy ${(100 * m.valAccuracy).toFixed(1)}% (head only ${(100 * m.headValAccuracy).toFixed(1)}%); ${m.seconds.total.toFixed(1)} s (features ${m.seconds.extract.toFixed(1)} s, ${m.chunks.cached}/${m.chunks.total} chunks cached) -> ${opts.out}\n`,
      );
      return m as unknown as Record<string, unknown>;
    } finally {
      run.result.model.dispose();
    }
  } finally {
    sink.stop();
    model.dispose();
  }
}

/** Builds the `finetune` sub-command. */
export function finetuneCommand(): Command {
  return new Command('finetune')
    .description(
      'Fine-tune a pretrained CNN on your images (one sub-folder per class): features once, a new head, optionally the top stages end to end; saves the model, classes, metrics, a confusion matrix and an HTML summary.',
    )
    .requiredOption(
      '--model <spec>',
      "'mobilenet_v2', 'inception_v3' (nsfwjs's backbones) or the path of a model.json",
    )
    .option('--images <dir>', 'one folder of images, one sub-folder per class (split into train/validation)')
    .option('--train <dir>', 'training folder (with --val)')
    .option('--val <dir>', 'validation folder, same class sub-folders (with --train)')
    .option(
      '--feature-layer <layer>',
      'layer the head reads (name or index; default: the backbone feature layer, else -2)',
    )
    .option('--unfreeze <n>', 'top backbone stages to fine-tune end to end after the head', parseInteger, 0)
    .option('--augment', 'augment training images with random flips and crops', false)
    .option('--epochs <n>', 'head epochs (early stopping on validation loss)', parseInteger, 30)
    .option('--fine-tune-epochs <n>', 'end-to-end epochs with --unfreeze', parseInteger, 5)
    .option('--batch-size <n>', 'examples per step', parseInteger, 32)
    .option('--learning-rate <x>', 'head learning rate', parseNumber, 3e-3)
    .option('--val-fraction <f>', 'fraction of each class held out with --images', parseNumber, 0.2)
    .option('--out <dir>', 'output folder (replaced as a whole when it exists)', 'finetuned')
    .option('--cache <dir>', 'feature cache folder (default: .transferkit-cache beside --out)')
    .option('--no-cache', 'do not cache features')
    .option('--seed <n>', 'seed of the split, initialisation, shuffling and augmentation', parseInteger, 0)
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(['auto', 'wasm', 'cpu', 'tensorflow'])
        .default('auto'),
    )
    .option('--no-progress', 'no progress bars')
    .action(async (opts: FinetuneCliOptions) => {
      await runFinetuneCommand(opts);
    });
}
