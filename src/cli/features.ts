/**
 * `transferkit features`: extract CNN features of a folder of images (one sub-folder per class) with any layers
 * model or a bundled pretrained backbone, and save them in the feature file format for `transferkit svm`.
 *
 *   transferkit features --model pretrained:mobilenet_v2 --images data/shapes --out shapes.tkf --norm l2
 *   transferkit features --model out/cnn/model.json --list-taps
 *
 * @module
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Command, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import {
  type AugmentOptions,
  FeatureExtractor,
  InvalidArgumentError,
  listTaps,
  NORM_MODES,
  type NormMode,
  POOL_MODES,
  type PoolMode,
  type ResizeMode,
} from '../index.js';
import { decodeImageFile, listImageFolder } from '../node/images.js';
import {
  initBackend,
  loadLayersModelFrom,
  loadPretrained,
  PRETRAINED_MODELS,
  saveFeatures,
} from '../node.js';

function parseNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CommanderArgumentError('expected a number.');
  return n;
}

function parseTap(v: string, prev: (string | number)[] = []): (string | number)[] {
  return [...prev, /^-?\d+$/.test(v) ? Number(v) : v];
}

/** Loads a model: `pretrained:<name>` (nsfwjs's backbones) or the path of a tfjs layers `model.json`. */
export async function loadModelArg(spec: string): Promise<{ model: tfl.LayersModel; defaultTap?: string }> {
  if (spec.startsWith('pretrained:')) {
    const name = spec.slice('pretrained:'.length);
    if (name !== 'mobilenet_v2' && name !== 'inception_v3') {
      throw new InvalidArgumentError(
        'transferkit features',
        '--model',
        "'pretrained:mobilenet_v2' or 'pretrained:inception_v3'",
        spec,
      );
    }
    return { model: await loadPretrained(name), defaultTap: PRETRAINED_MODELS[name].featureLayer };
  }
  return { model: await loadLayersModelFrom(spec) };
}

/** Decodes a PNG or JPEG file to `[H, W, channels]` float32 in [0, 1] (channels 1: mean of R, G, B). */
async function readImage(file: string, channels: number): Promise<tf.Tensor3D> {
  const img = await decodeImageFile(file, 'transferkit features', '--images');
  const { width: w, height: h } = img;
  const out = new Float32Array(w * h * channels);
  for (let i = 0; i < w * h; i++) {
    const r = img.data[4 * i] / 255;
    const g = img.data[4 * i + 1] / 255;
    const b = img.data[4 * i + 2] / 255;
    if (channels === 1) out[i] = (r + g + b) / 3;
    else {
      out[3 * i] = r;
      out[3 * i + 1] = g;
      out[3 * i + 2] = b;
    }
  }
  return tf.tensor3d(out, [h, w, channels]);
}

/**
 * The images of `dir`, numbered as every transferkit reader numbers them ({@link listImageFolder}): one sub-folder per
 * class, or image files directly (class 0, named `all`).
 */
export async function listImages(
  dir: string,
): Promise<{ files: string[]; labels: number[]; classes: string[] }> {
  const { files, classNames } = await listImageFolder(dir);
  return {
    files: files.map((f) => f.file),
    labels: files.map((f) => f.label ?? 0),
    classes: classNames.length > 0 ? classNames : ['all'],
  };
}

/** Builds the `features` sub-command. */
export function featuresCommand(): Command {
  return new Command('features')
    .description(
      'Extract features of hidden layers (DeCAF / "CNN features off-the-shelf") for a folder of images, one sub-folder per class, into a feature file.',
    )
    .requiredOption(
      '--model <spec>',
      "'pretrained:mobilenet_v2', 'pretrained:inception_v3' or the path of a model.json",
    )
    .option('--images <dir>', 'folder of PNG/JPEG images, one sub-folder per class')
    .option(
      '--tap <layer>',
      'layer name or index (negative from the end); repeatable (default: the feature layer of a pretrained model, else -2)',
      parseTap,
    )
    .addOption(
      new Option('--pool <mode>', 'pooling of conv maps').choices([...POOL_MODES]).default('flatten'),
    )
    .addOption(new Option('--norm <mode>', 'normalisation').choices([...NORM_MODES]).default('none'))
    .addOption(
      new Option('--resize <mode>', 'fit images to the model input')
        .choices(['stretch', 'center-crop'])
        .default('stretch'),
    )
    .option('--scale <x>', 'preprocessing: pixels in [0, 1] times this', parseNumber, 1)
    .option('--offset <x>', 'preprocessing: added after scaling', parseNumber, 0)
    .option('--augment', 'average the features of 10 views (centre + 4 corner crops, mirrored)')
    .option('--memory-mb <n>', 'memory budget of one batch of activations', parseNumber, 64)
    .option('--out <file>', 'feature file to write (.tkf)')
    .option('--list-taps', 'list the layers of the model with their output shapes and exit')
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(['auto', 'wasm', 'cpu', 'tensorflow'])
        .default('auto'),
    )
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      await initBackend(opts.backend as string);
      const { model, defaultTap } = await loadModelArg(opts.model as string);
      try {
        if (opts.listTaps) {
          for (const t of listTaps(model)) {
            process.stdout.write(
              `${'  '.repeat(t.depth)}${t.name}\t${t.className}\t[${t.outputShape.map((d) => d ?? 'N').join(', ')}]\n`,
            );
          }
          return;
        }
        if (typeof opts.images !== 'string')
          cmd.error('error: --images <dir> is required (or --list-taps)', { exitCode: 2 });
        if (typeof opts.out !== 'string') cmd.error('error: --out <file> is required', { exitCode: 2 });
        const { files, labels, classes } = await listImages(opts.images as string);
        if (files.length === 0) {
          throw new InvalidArgumentError(
            'transferkit features',
            '--images',
            'a folder with PNG/JPEG images',
            opts.images,
          );
        }
        const taps = (opts.tap as (string | number)[] | undefined) ?? [defaultTap ?? -2];
        const augment: AugmentOptions | false = opts.augment
          ? { crops: 'center+corners', flip: true, combine: 'mean' }
          : false;
        const fx = new FeatureExtractor(model, {
          taps,
          pool: opts.pool as PoolMode,
          normalize: opts.norm as NormMode,
          resize: opts.resize as ResizeMode,
          preprocess: { scale: opts.scale as number, offset: opts.offset as number },
          augment,
        });
        const channels = (model.inputs[0].shape[3] as number | null) ?? 3;
        // A generator of batches of same-size images, read lazily, at the batch size the memory budget allows.
        async function* batches(bs: number): AsyncGenerator<tf.Tensor4D> {
          let pending: tf.Tensor3D[] = [];
          const flush = () => {
            const b = tf.stack(pending) as tf.Tensor4D;
            tf.dispose(pending);
            pending = [];
            return b;
          };
          for (const f of files) {
            const img = await readImage(f, channels);
            if (
              pending.length > 0 &&
              (pending.length >= bs || pending[0].shape.some((d, i) => d !== img.shape[i]))
            )
              yield flush();
            pending.push(img);
          }
          if (pending.length > 0) yield flush();
        }
        const t0 = Date.now();
        const feats = await fx.extractAll(batches, {
          memoryBudgetMB: opts.memoryMb as number,
          total: files.length,
          onProgress: (e) => process.stderr.write(`\rextract ${e.done}/${e.total}`),
        });
        process.stderr.write('\n');
        await saveFeatures(opts.out as string, feats, {
          labels,
          meta: {
            model: opts.model,
            classes,
            files: files.map((f) => path.relative(opts.images as string, f)),
            taps: fx.taps.map((t) => t.name),
            pool: opts.pool,
            norm: opts.norm,
            augment: Boolean(opts.augment),
          },
        });
        process.stdout.write(
          `${files.length} images, ${classes.length} classes; ${feats.map((f) => `${f.name}: ${f.cols}-d`).join(', ')}; ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${opts.out}\n`,
        );
        fx.dispose();
      } finally {
        model.dispose();
      }
    });
}
