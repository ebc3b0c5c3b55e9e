/**
 * `transferkit deconv`: Zeiler & Fergus visualisations of one layer of a saved tfjs layers model over a folder of
 * images: the top-k projections per feature map beside their receptive-field patches (a PNG grid, the paper's
 * fig. 2) and, with `--occlusion`, occlusion maps of the correct (sub-folder) or predicted class.
 *
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Command, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import { Deconvnet, InvalidArgumentError, type ProjectionStrategy, topKFigure } from '../index.js';
import { toRgbaGrid, withTracked } from '../internal.js';
import { initBackend, loadLayersModelFrom, readImageFolder, writePng } from '../node.js';
import { terminalProgress } from '../report/progress.js';

const CMD = 'transferkit deconv';

/** The options of the `deconv` sub-command, as commander parses them. */
export interface DeconvCliOptions {
  model: string;
  images: string;
  layer: string;
  k: number;
  channels?: number[];
  strategy: ProjectionStrategy;
  occlusion: boolean;
  occluder: number;
  stride: number;
  scale: number;
  out: string;
  backend: string;
  progress: boolean;
}

function parseInteger(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new CommanderArgumentError(`expected an integer >= ${min}.`);
    return n;
  };
}

function parseChannels(v: string): number[] {
  const c = v.split(',').map((s) => Number(s.trim()));
  if (c.length === 0 || c.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new CommanderArgumentError('expected comma-separated channel indices, e.g. 0,1,2.');
  }
  return c;
}

/** Runs the command (exported for tests). Returns what it writes to `<out>/deconv.json`. */
export async function runDeconvCommand(opts: DeconvCliOptions): Promise<Record<string, unknown>> {
  if (!existsSync(opts.model) || !statSync(opts.model).isFile()) {
    throw new InvalidArgumentError(CMD, '--model', 'an existing model.json file', opts.model);
  }
  if (!existsSync(opts.images) || !statSync(opts.images).isDirectory()) {
    throw new InvalidArgumentError(CMD, '--images', 'an existing folder', opts.images);
  }
  const backend = await initBackend(opts.backend);
  const sink = terminalProgress({ bars: opts.progress });
  let model: tfl.LayersModel | undefined;
  let dn: Deconvnet | undefined;
  try {
    // The tensors of the run are freed when it ends, by returning or throwing (the one ownership helper).
    return await withTracked(async (track) => {
      model = await loadLayersModelFrom(opts.model);
      dn = new Deconvnet(model, { strategy: opts.strategy });
      const [, h, w, c] = dn.graph.inputShape;
      if (typeof h !== 'number' || typeof w !== 'number' || (c !== 1 && c !== 3)) {
        throw new InvalidArgumentError(
          CMD,
          '--model',
          'a model with a fixed [h, w, 1|3] image input',
          dn.graph.inputShape,
        );
      }
      const info = dn.layerInfo(opts.layer);
      const { x, labels } = await readImageFolder(opts.images, {
        size: [h, w],
        channels: c,
        caller: { fn: CMD, argument: '--images' },
      });
      track(x);
      sink.log(
        `${CMD}: ${x.shape[0]} images, layer ${info.name} (${info.className}, ${info.channels} channels), ${backend}`,
      );
      await mkdir(opts.out, { recursive: true });
      const top = await dn.topK(x, {
        layer: opts.layer,
        k: opts.k,
        channels: opts.channels ?? 'all',
        onProgress: (e) => sink.update('deconv', e),
      });
      track([top.projections, top.patches]);
      const topFile = path.join(opts.out, `topk-${info.name.replace(/[^\w.-]+/g, '_')}.png`);
      await writePng(topFile, await topKFigure(top, { scale: opts.scale }));
      const result: Record<string, unknown> = {
        layer: info.name,
        className: info.className,
        strategy: opts.strategy,
        images: x.shape[0],
        receptiveField: info.receptiveField,
        topK: top.units,
        files: [topFile],
      };
      if (opts.occlusion) {
        let cls = labels;
        if (cls === undefined) {
          const p = tf.tidy(() => tf.argMax(model!.predict(x) as tf.Tensor, 1));
          cls = Array.from(await p.data());
          p.dispose();
        }
        const occ = await dn.occlusion(x, {
          labels: cls,
          size: Math.min(opts.occluder, h, w),
          stride: opts.stride,
          layer: opts.layer,
          onProgress: (e) => sink.update('deconv', e),
        });
        track([occ.probability, occ.predicted, occ.featureActivity!]);
        const [n, r, cc] = occ.probability.shape;
        const grid = toRgbaGrid(
          { data: await occ.probability.data(), count: n, height: r, width: cc, channels: 1 },
          { normalize: 'none', colormap: 'viridis', scale: Math.max(1, Math.round((opts.scale * h) / r)) },
        );
        const occFile = path.join(opts.out, 'occlusion.png');
        await writePng(occFile, grid);
        (result.files as string[]).push(occFile);
        result.occlusion = {
          classes: cls,
          baseline: occ.baseline,
          rows: occ.rows,
          cols: occ.cols,
          size: occ.size,
        };
      }
      await writeFile(path.join(opts.out, 'deconv.json'), JSON.stringify(result, null, 1));
      sink.log(`wrote ${(result.files as string[]).join(', ')}`);
      return result;
    });
  } finally {
    dn?.dispose();
    model?.dispose();
    sink.stop();
  }
}

/** Builds the `deconv` sub-command. */
export function deconvCommand(): Command {
  return new Command('deconv')
    .description(
      'Top-k deconvnet projections (Zeiler & Fergus fig. 2) and occlusion maps of a layer of a saved tfjs layers model over a folder of images.',
    )
    .requiredOption('--model <model.json>', 'a tfjs layers model (model.json beside its weights)')
    .requiredOption('--images <folder>', 'PNG/JPEG images, directly or in one sub-folder per class (labels)')
    .requiredOption('--layer <name>', 'the layer whose feature maps are visualised')
    .option('--k <n>', 'strongest activations per feature map', parseInteger(1), 9)
    .option('--channels <list>', 'feature maps to show, e.g. 0,1,2 (default: all)', parseChannels)
    .addOption(
      new Option('--strategy <rule>', 'backward rule at ReLUs')
        .choices(['deconvnet', 'guided', 'saliency'])
        .default('deconvnet'),
    )
    .option('--occlusion', 'also write occlusion maps (sub-folder class, else the predicted class)', false)
    .option('--occluder <px>', 'side of the grey square', parseInteger(1), 8)
    .option('--stride <px>', 'step of the square', parseInteger(1), 2)
    .option('--scale <n>', 'upscaling of the PNG tiles', parseInteger(1), 2)
    .option('--out <folder>', 'output folder', 'deconv')
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(['auto', 'wasm', 'cpu', 'tensorflow'])
        .default('auto'),
    )
    .option('--no-progress', 'no progress bars')
    .action(async (opts: DeconvCliOptions) => {
      await runDeconvCommand(opts);
    });
}
