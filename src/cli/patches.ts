/**
 * `transferkit patches`: Oquab et al.'s multi-scale patch scoring of images with a classifier (a model saved by
 * `transferkit finetune`, or any layers model.json that outputs class scores): each image is cut into about 500
 * overlapping square patches at several scales ({@link index!PatchSampler | PatchSampler}), every patch is classified,
 * the patch scores are aggregated into image scores (Oquab et al. 2014, Eq. 4: `(1/M) sum_i y_i^k`) and a per-pixel
 * localisation map of the top class is written as a PNG per image.
 *
 *   transferkit patches --model out/photos photos/new --out out/patches --size 448 --power 5
 *
 * @module
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Command, Option } from 'commander';
import {
  aggregatePatchScores,
  InvalidArgumentError,
  localizationMap,
  PatchSampler,
  predictPatches,
} from '../index.js';
import {
  checkImageFiles,
  checkOutputFolder,
  colormap,
  imageInputShape,
  listImageFolder,
} from '../internal.js';
import { initBackend, loadFinetuned, loadLayersModelFrom, readImageFiles, writePng } from '../node.js';
import { parsePositiveInteger, parsePositiveNumber } from './parse.js';

/** Options of {@link runPatchesCommand}. */
export interface PatchesCliOptions {
  /** A folder written by `transferkit finetune`, or a model.json. */
  model: string;
  /** Image files or folders. */
  inputs: string[];
  /** Output folder (scores.json + one `<image>.map.png` per image). */
  out: string;
  /** Side the images are resized to before cutting patches; default: twice the model's input side. */
  size?: number;
  /** Number of patch scales. */
  scales: number;
  /** Exponent k of the power mean. */
  power: number;
  /** Applied to the model's outputs. */
  activation: 'none' | 'softmax' | 'sigmoid';
  /** tfjs backend. */
  backend: string;
}

/** One image's result of {@link runPatchesCommand}. */
export interface PatchesImageResult {
  /** The image file. */
  file: string;
  /** Image-level score of each class (power mean over the patches). */
  scores: Record<string, number>;
  /** The class with the highest image score. */
  top: string;
  /** The localisation map of `top` (PNG). */
  map: string;
}

/** Runs the command (exported for tests); returns what it wrote to `<out>/scores.json`. */
export async function runPatchesCommand(opts: PatchesCliOptions): Promise<PatchesImageResult[]> {
  const fn = 'transferkit patches';
  const files: string[] = [];
  for (const input of opts.inputs) {
    const s = await stat(input).catch(() => undefined);
    if (s === undefined) throw new InvalidArgumentError(fn, 'IMAGES', 'existing files or folders', input);
    if (s.isDirectory()) files.push(...(await listImageFolder(input, { fn, argument: 'IMAGES' })).files);
    else files.push(input);
  }
  if (files.length === 0) throw new InvalidArgumentError(fn, 'IMAGES', 'image files or folders', opts.inputs);
  await checkImageFiles(files, { fn, argument: 'IMAGES' });
  await checkOutputFolder(opts.out, { fn, argument: '--out' });
  await initBackend(opts.backend);
  const isFolder = (await stat(opts.model).catch(() => undefined))?.isDirectory() ?? false;
  const loaded = isFolder
    ? await loadFinetuned(opts.model)
    : await loadLayersModelFrom(opts.model).then((model) => {
        const k = model.outputs[0].shape[model.outputs[0].shape.length - 1] as number;
        return { model, classNames: Array.from({ length: k }, (_, i) => String(i)), inputShape: [0, 0, 0] };
      });
  const model = loaded.model;
  try {
    const [h, w, c] = imageInputShape(fn, model);
    const side = opts.size ?? 2 * Math.max(h, w);
    const grid = new PatchSampler({ scales: opts.scales, minPatchSize: Math.min(8, side) }).grid({
      height: side,
      width: side,
    });
    await mkdir(opts.out, { recursive: true });
    const results: PatchesImageResult[] = [];
    const names = loaded.classNames;
    for (const [i, file] of files.entries()) {
      const x = await readImageFiles([file], {
        size: [side, side],
        channels: c as 1 | 3,
        caller: { fn, argument: 'IMAGES' },
      });
      let patchScores: tf.Tensor3D | undefined;
      try {
        patchScores = await predictPatches(model, x, grid, [h, w], { activation: opts.activation });
        const s = patchScores;
        const image = tf.tidy(() => aggregatePatchScores(s, { method: 'power', power: opts.power }));
        const sc = Array.from(await image.data());
        image.dispose();
        const top = sc.indexOf(Math.max(...sc));
        const m = tf.tidy(() => tf.slice(localizationMap(s, grid), [0, 0, 0, top], [1, side, side, 1]));
        const v = await m.data();
        m.dispose();
        let lo = Number.POSITIVE_INFINITY;
        let hi = Number.NEGATIVE_INFINITY;
        for (const a of v) {
          lo = Math.min(lo, a);
          hi = Math.max(hi, a);
        }
        const rgba = new Uint8ClampedArray(side * side * 4);
        for (let p = 0; p < side * side; p++) {
          const [r, g, b] = colormap('viridis', hi > lo ? (v[p] - lo) / (hi - lo) : 0);
          rgba.set([r, g, b, 255], 4 * p);
        }
        const map = `${String(i).padStart(4, '0')}-${path.basename(file).replace(/\.[^.]+$/, '')}.map.png`;
        await writePng(path.join(opts.out, map), { width: side, height: side, data: rgba });
        results.push({
          file,
          scores: Object.fromEntries(names.map((n, k) => [n, sc[k]])),
          top: names[top],
          map,
        });
        process.stderr.write(`patches ${i + 1}/${files.length}: ${file} -> ${names[top]}\n`);
      } finally {
        x.dispose();
        patchScores?.dispose();
      }
    }
    await writeFile(
      path.join(opts.out, 'scores.json'),
      `${JSON.stringify({ patches: grid.count, size: side, power: opts.power, images: results }, null, 2)}\n`,
    );
    process.stdout.write(
      `${files.length} image(s), ${grid.count} patches each at ${side}x${side} -> ${opts.out}\n`,
    );
    return results;
  } finally {
    model.dispose();
  }
}

/** Builds the `patches` sub-command. */
export function patchesCommand(): Command {
  return new Command('patches')
    .description(
      "Oquab et al.'s multi-scale patch scoring: classify ~500 patches per image, aggregate them into image scores (power mean) and write a localisation map PNG per image.",
    )
    .requiredOption(
      '--model <path>',
      'folder written by `transferkit finetune`, or a model.json (class scores out)',
    )
    .argument('<inputs...>', 'image files or folders')
    .option('--out <dir>', 'output folder', 'patches')
    .option(
      '--size <px>',
      'side images are resized to before cutting patches (default: twice the model input)',
      parsePositiveInteger,
    )
    .option(
      '--scales <n>',
      'number of patch scales (largest = the whole image, smallest = 1/8 of it)',
      parsePositiveInteger,
      8,
    )
    .option(
      '--power <k>',
      'exponent of the power mean of patch scores (Oquab et al. Eq. 4)',
      parsePositiveNumber,
      5,
    )
    .addOption(
      new Option('--activation <f>', 'applied to the model outputs')
        .choices(['none', 'softmax', 'sigmoid'])
        .default('none'),
    )
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(['auto', 'wasm', 'cpu', 'tensorflow'])
        .default('auto'),
    )
    .action(async (inputs: string[], opts: Omit<PatchesCliOptions, 'inputs'>) => {
      await runPatchesCommand({ ...opts, inputs });
    });
}
