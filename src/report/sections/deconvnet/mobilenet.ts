/**
 * Part of the `deconvnet` report section: Zeiler & Fergus's fig. 2 (top-9 projections beside their image patches) on
 * the pretrained MobileNetV2 that `loadPretrained('mobilenet_v2')` gives (nsfwjs's backbone, ImageNet-trained).
 *
 * The report has no natural photos, so the images are 224x224 digit scenes (the demo scene generator on MNIST test
 * digits with stroke and fragment clutter), grey tiled to RGB. nsfwjs's head classifies NSFW categories, so only
 * the backbone's feature maps are looked at, never the classes.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  Deconvnet,
  generateScenes,
  MissingDependencyError,
  scenesToTensor,
  type TopKResult,
  topKFigure,
} from '../../../index.js';
import { pngDataUri } from '../../../internal.js';
import { loadPretrained } from '../../../node.js';
import { figure, note, paragraph, table } from '../../html.js';
import type { ReportContext, ReportMode } from '../../types.js';

/** The MobileNetV2 part's settings in one mode. */
export interface MobilenetDeconvConfig {
  /** Number of 224x224 scenes scanned. */
  images: number;
  /** Images per forward pass and units per projection pass. */
  batchSize: number;
  /** Layers and the channels of each that are ranked and projected. */
  layers: { layer: string; channels: number[] }[];
  /** Side (px) to which each projection and patch is resized in the figures (keeps the HTML small). */
  tile: number;
}

/**
 * The settings of each mode. Quick: 16 scenes (one batch) and 2 channels of the late block 13, to stay near 20 s of
 * CPU on wasm (16 scenes with 2 channels of blocks 6 and 13 measured 36 s of CPU on the shared 2-core machine).
 * Full: 96 scenes and 4 channels of a middle (6) and a late (13) block.
 */
export function mobilenetDeconvConfig(mode: ReportMode): MobilenetDeconvConfig {
  if (mode === 'full') {
    const channels = [0, 1, 2, 3];
    return {
      images: 96,
      batchSize: 16,
      layers: [
        { layer: 'block_6_expand_relu', channels },
        { layer: 'block_13_expand_relu', channels },
      ],
      tile: 96,
    };
  }
  return {
    images: 16,
    batchSize: 16,
    layers: [{ layer: 'block_13_expand_relu', channels: [0, 1] }],
    tile: 96,
  };
}

/** One MobileNetV2 layer's fig.-2 grid. */
export interface MobilenetLayerFigure {
  layer: string;
  /** Channels of the layer. */
  channels: number;
  /** The channels ranked and shown. */
  shown: number[];
  receptiveField: [number, number];
  /** Receptive-field side shown resized to this many pixels. */
  tile: number;
  png: string;
  /** Mean top-1 activation over the shown channels. */
  meanTop: number;
  /** Scan and projection time of this layer (s). */
  seconds: number;
}

/** The results of the MobileNetV2 part: figures, or why it was skipped (the optional model package is absent). */
export type MobilenetDeconvResult =
  | {
      model: string;
      images: number;
      imageSize: number;
      batchSize: number;
      layers: MobilenetLayerFigure[];
      /** Loading the model and building the scenes (s). */
      setupSeconds: number;
      seconds: number;
    }
  | { skipped: string };

/** Resizes `[C, k, h, w, c]` tiles to `[C, k, s, s, c]` (bilinear); the input is not disposed. */
function resizeTiles(t: tf.Tensor5D, s: number): tf.Tensor5D {
  return tf.tidy(() => {
    const [ch, k, h, w, c] = t.shape;
    const flat = tf.reshape(t, [ch * k, h, w, c]) as tf.Tensor4D;
    return tf.reshape(tf.image.resizeBilinear(flat, [s, s]), [ch, k, s, s, c]) as tf.Tensor5D;
  });
}

/** Runs the MobileNetV2 top-9 figures; progress goes to `ctx.progress`. */
export async function runMobilenetDeconv(
  ctx: ReportContext,
  digits: { pixels: ArrayLike<number>; labels: ArrayLike<number> },
  cfg: MobilenetDeconvConfig = mobilenetDeconvConfig(ctx.mode),
): Promise<MobilenetDeconvResult> {
  const t0 = Date.now();
  let net: tfl.LayersModel;
  try {
    net = await loadPretrained('mobilenet_v2');
  } catch (e) {
    if (e instanceof MissingDependencyError) return { skipped: e.message };
    throw e;
  }
  const size = 224;
  const dn = new Deconvnet(net);
  const owned: tf.Tensor[] = [];
  try {
    const scenes = generateScenes(
      { pixels: digits.pixels, labels: digits.labels, height: 28, width: 28 },
      {
        count: cfg.images,
        seed: ctx.seed + 61,
        canvasSize: size,
        minScale: 56,
        maxScale: 112,
        minObjects: 2,
        maxObjects: 4,
        strokes: 4,
        fragments: 2,
        // no pixel noise: the patches compress to a small PNG
        noise: 0,
      },
    );
    const grey = scenesToTensor(scenes);
    owned.push(grey);
    const x = tf.tile(grey, [1, 1, 1, 3]) as tf.Tensor4D;
    owned.push(x);
    const setupSeconds = (Date.now() - t0) / 1000;
    const layers: MobilenetLayerFigure[] = [];
    for (const { layer, channels } of cfg.layers) {
      const tl = Date.now();
      const top = await dn.topK(x, {
        layer,
        k: 9,
        channels,
        batchSize: cfg.batchSize,
        // MobileNetV2 has no max pooling, so the pure deconvnet rule (no switches) gives the same projection for
        // every image of a channel; guided backprop keeps the forward ReLU masks and so depends on the image.
        strategy: 'guided',
        onProgress: (e) => ctx.progress({ ...e, phase: `deconvnet MobileNetV2 top-9 ${layer} ${e.phase}` }),
      });
      let shrunk: TopKResult | null = null;
      try {
        shrunk = {
          ...top,
          projections: resizeTiles(top.projections, cfg.tile),
          patches: resizeTiles(top.patches, cfg.tile),
        };
        const png = pngDataUri(await topKFigure(shrunk, { scale: 1, columns: channels.length }));
        const firsts = top.units.map((u) => u[0]?.score ?? 0);
        layers.push({
          layer,
          channels: dn.layerInfo(layer).channels,
          shown: [...channels],
          receptiveField: top.receptiveField.size,
          tile: cfg.tile,
          png,
          meanTop: firsts.reduce((a, b) => a + b, 0) / Math.max(1, firsts.length),
          seconds: (Date.now() - tl) / 1000,
        });
      } finally {
        tf.dispose([top.projections, top.patches]);
        if (shrunk) tf.dispose([shrunk.projections, shrunk.patches]);
      }
    }
    return {
      model: 'mobilenet_v2',
      images: cfg.images,
      imageSize: size,
      batchSize: cfg.batchSize,
      layers,
      setupSeconds,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    tf.dispose(owned);
    dn.dispose();
    net.dispose();
  }
}

/** The HTML of the MobileNetV2 part (nothing for results cached before it existed). */
export function renderMobilenetDeconv(r: MobilenetDeconvResult | undefined): string {
  if (r === undefined) return '';
  if ('skipped' in r) {
    return note(`Pretrained MobileNetV2 (top-9 projections): skipped, ${r.skipped}`);
  }
  return [
    paragraph(
      `The same fig.-2 grids on a real network: the pretrained MobileNetV2 of loadPretrained('mobilenet_v2') ` +
        "(nsfwjs's ImageNet-trained backbone; its head classifies NSFW categories, so only the backbone's feature " +
        `maps mean anything here). The report ships no natural photos, so the ${r.images} images are ` +
        `${r.imageSize}x${r.imageSize} digit scenes (2-4 MNIST test digits with stroke and fragment clutter, grey ` +
        'tiled to RGB): the units answer to edges, blobs and stroke textures, not to ImageNet objects. The ' +
        'projection runs backwards through depthwise convolutions, batch normalisation, ReLU6 and the residual ' +
        "additions with guided backprop's rule: MobileNetV2 has no max pooling, so the deconvnet's rule (which " +
        'depends on the image only through the pooling switches) would draw the same picture for all 9 units of a ' +
        'channel.',
    ),
    table(
      [
        'MobileNetV2 layer',
        'channels shown',
        'receptive field',
        'mean top-1 activation',
        'scan + projection',
      ],
      r.layers.map((l) => [
        l.layer,
        `${l.shown.join(', ')} of ${l.channels}`,
        `${l.receptiveField[0]}x${l.receptiveField[1]}`,
        l.meanTop,
        `${l.seconds.toFixed(1)} s`,
      ]),
      `Top-9 over ${r.images} scenes, batch ${r.batchSize}: ${r.seconds.toFixed(1)} s in all (${r.setupSeconds.toFixed(1)} s loading the model and drawing the scenes).`,
    ),
    ...r.layers.map((l) =>
      figure(
        { src: l.png, alt: `MobileNetV2 top-9 of ${l.layer}` },
        `MobileNetV2 ${l.layer}, channels ${l.shown.join(', ')}: for each, the 9 strongest activations projected ` +
          `to pixels by guided backprop (left, grey = 0) beside the ${l.receptiveField.join('x')} input patches (right; zero outside ` +
          `the image), each resized to ${l.tile}x${l.tile}.`,
      ),
    ),
  ].join('\n');
}
