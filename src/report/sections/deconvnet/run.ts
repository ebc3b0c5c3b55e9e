/**
 * The deconvnet section's run (Zeiler & Fergus 2013) on the reference CNN trained on MNIST, on digit scenes and on
 * the pretrained MobileNetV2:
 *
 * - Fig. 2 in small: for each feature map of conv1, conv2 and fc1, the top-9 activations over the MNIST test digits
 *   projected to pixels by the deconvnet, beside the image patches (cropped to the unit's receptive field).
 * - The three backward rules side by side (deconvnet, guided backprop, gradient saliency) for the correct class.
 * - Section 4.2's occlusion maps on digits and on scenes, and the measured claim: on single-digit scenes with
 *   clutter, the occluder position that lowers the correct class's probability most lies inside the digit's box
 *   (per scene, with the scene's chance of that, for the interval).
 *
 * The scene classifier is built in ./scenes.ts (the reference CNN's lower stages copied by `LayerTransfer`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Deconvnet,
  generateScenes,
  type RgbaImage,
  scenesToTensor,
  type TopKResult,
  topKFigure,
} from '../../../index.js';
import { pngDataUri } from '../../../internal.js';
import { sharedMnist, sharedReferenceCnn } from '../../shared.js';
import type { ReportContext } from '../../types.js';
import {
  type DeconvnetConfig,
  type DeconvnetSectionResult,
  deconvnetConfig,
  type LayerFigure,
} from './config.js';
import { digitColumn, hcat, occlusionFigure } from './images.js';
import { runMobilenetDeconv } from './mobilenet.js';
import { evaluateScenes, sceneClassifier, sceneOcclusion } from './scenes.js';

async function layerFigure(dn: Deconvnet, top: TopKResult, shown: number): Promise<LayerFigure> {
  const png = pngDataUri(await topKFigure(top, { scale: 2, maxChannels: shown }));
  const firsts = top.units.slice(0, shown).map((u) => u[0]?.score ?? 0);
  return {
    layer: top.layer,
    channels: dn.layerInfo(top.layer).channels,
    shown,
    receptiveField: top.receptiveField.size,
    png,
    meanTop: firsts.reduce((a, b) => a + b, 0) / Math.max(1, firsts.length),
  };
}

/** Fig. 2 grids, the strategies figure and occlusion on digits, with the reference CNN. */
async function runDigits(
  ctx: ReportContext,
  cfg: DeconvnetConfig,
  dn: Deconvnet,
  test: { x: tf.Tensor4D; labels: ArrayLike<number>; size: number },
): Promise<Omit<DeconvnetSectionResult['mnist'], 'testAccuracy'>> {
  const owned: tf.Tensor[] = [];
  try {
    const scanned = Math.min(test.size, cfg.scanned);
    const images = tf.slice(test.x, 0, scanned);
    owned.push(images);
    const tk = Date.now();
    const layers: LayerFigure[] = [];
    for (const { layer, shown } of cfg.layers) {
      const channels = Array.from({ length: Math.min(shown, dn.layerInfo(layer).channels) }, (_, i) => i);
      const top = await dn.topK(images, {
        layer,
        k: 9,
        channels,
        batchSize: 100,
        onProgress: (e) => ctx.progress({ ...e, phase: `deconvnet top-9 ${layer} ${e.phase}` }),
      });
      try {
        layers.push(await layerFigure(dn, top, channels.length));
      } finally {
        tf.dispose([top.projections, top.patches]);
      }
    }
    const topKSeconds = (Date.now() - tk) / 1000;

    // strategies side by side: projection of the correct class's logit
    const sample = cfg.samples;
    const sx = tf.slice(test.x, 0, sample) as tf.Tensor4D;
    owned.push(sx);
    const labels = Array.from(test.labels).slice(0, sample);
    const units = labels.map((c, i) => ({ image: i, channel: c }));
    const columns: RgbaImage[] = [digitColumn(await sx.data(), sample)];
    for (const strategy of ['deconvnet', 'guided', 'saliency'] as const) {
      const p = dn.projectUnits(sx, units, { layer: 'logits', strategy, signal: 'unit' });
      try {
        columns.push(digitColumn(await p.data(), sample, 'symmetric'));
      } finally {
        p.dispose();
      }
    }
    const strategiesPng = pngDataUri(hcat(columns, 6));

    // occlusion on digits
    const occ = await dn.occlusion(sx, {
      labels,
      ...cfg.digitOcclusion,
      onProgress: (e) => ctx.progress({ ...e, phase: 'deconvnet occlusion (digits)' }),
    });
    try {
      const fig = await occlusionFigure(sx, occ, 28, 28, null);
      return {
        scanned,
        layers,
        topKSeconds,
        strategiesPng,
        occlusionPng: fig.png,
        occlusionSamples: sample,
        meanDrop: fig.meanDrop,
      };
    } finally {
      tf.dispose([occ.probability, occ.predicted, occ.featureActivity ?? null].filter((t) => t !== null));
    }
  } finally {
    tf.dispose(owned);
  }
}

/** The scene classifier, occlusion on held-out scenes, and the top-9 grids of its head's convolution. */
async function runScenes(
  ctx: ReportContext,
  cfg: DeconvnetConfig,
  cnn: Parameters<typeof sceneClassifier>[2],
  mnist: Awaited<ReturnType<typeof sharedMnist>>,
): Promise<DeconvnetSectionResult['scenes']> {
  const s = cfg.scenes;
  const sceneOpts = {
    canvasSize: s.canvas,
    minScale: s.minScale,
    maxScale: s.maxScale,
    minObjects: 1,
    maxObjects: 1,
    strokes: s.strokes,
    fragments: s.fragments,
  };
  const digits = (part: typeof mnist.train) => ({
    pixels: part.pixels,
    labels: part.labels,
    height: 28,
    width: 28,
  });
  const trainScenes = generateScenes(digits(mnist.train), {
    ...sceneOpts,
    count: s.train,
    seed: ctx.seed + s.trainSeed,
  });
  const testScenes = generateScenes(digits(mnist.test), {
    ...sceneOpts,
    count: s.test,
    seed: ctx.seed + s.testSeed,
  });
  const owned: tf.Tensor[] = [];
  const trX = scenesToTensor(trainScenes);
  owned.push(trX);
  try {
    const trY = tf.tensor1d(
      trainScenes.map((sc) => sc.objects[0].label),
      'int32',
    );
    owned.push(trY);
    const teX = scenesToTensor(testScenes);
    owned.push(teX);
    const teLabels = testScenes.map((sc) => sc.objects[0].label);
    const teY = tf.tensor1d(teLabels, 'int32');
    owned.push(teY);
    const scene = await sceneClassifier(ctx, s, cnn, trX, trY);
    const sdn = new Deconvnet(scene.model);
    try {
      const { evaluation, predicted } = await evaluateScenes(scene.model, teX, teY);
      const socc = await sdn.occlusion(teX, {
        labels: teLabels,
        size: s.occluder,
        stride: s.stride,
        layer: 'conv3',
        batchSize: 128,
        onProgress: (e) => ctx.progress({ ...e, phase: 'deconvnet occlusion (scenes)' }),
      });
      let measured: Awaited<ReturnType<typeof sceneOcclusion>>;
      let occlusionPng: string;
      try {
        measured = await sceneOcclusion(socc, testScenes, predicted, s.occluder);
        const shown = Math.min(cfg.samples, testScenes.length);
        const slices = [
          tf.slice(teX, 0, shown) as tf.Tensor4D,
          tf.slice(socc.probability, 0, shown),
          tf.slice(socc.featureActivity!, 0, shown),
        ];
        try {
          occlusionPng = (
            await occlusionFigure(
              slices[0] as tf.Tensor4D,
              { probability: slices[1], featureActivity: slices[2] },
              s.canvas,
              s.canvas,
              testScenes.slice(0, shown),
            )
          ).png;
        } finally {
          tf.dispose(slices);
        }
      } finally {
        tf.dispose(
          [socc.probability, socc.predicted, socc.featureActivity ?? null].filter((t) => t !== null),
        );
      }
      const stop = await sdn.topK(teX, {
        layer: 'conv3',
        k: 9,
        channels: Array.from({ length: s.topChannels }, (_, i) => i),
        batchSize: 100,
        onProgress: (e) => ctx.progress({ ...e, phase: `deconvnet top-9 scenes ${e.phase}` }),
      });
      let topPng: string;
      try {
        topPng = pngDataUri(await topKFigure(stop, { scale: 2 }));
      } finally {
        tf.dispose([stop.projections, stop.patches]);
      }
      const { points } = measured;
      const n = testScenes.length;
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const correct = sum(points.correct);
      const insideCorrect = sum(points.inside.map((v, i) => v * points.correct[i]));
      return {
        canvas: s.canvas,
        train: trainScenes.length,
        test: n,
        epochs: s.epochs,
        accuracy: evaluation.accuracy,
        occluder: s.occluder,
        stride: s.stride,
        insideBox: sum(points.inside) / n,
        insideBoxCorrect: correct > 0 ? insideCorrect / correct : Number.NaN,
        correct,
        chance: sum(points.chance) / n,
        meanDrop: measured.meanDrop,
        occlusionPng,
        topPng,
        perScene: points,
        copiedLayers: scene.copiedLayers,
        fromCache: scene.fromCache,
      };
    } finally {
      sdn.dispose();
      scene.model.dispose();
    }
  } finally {
    tf.dispose(owned);
  }
}

/**
 * Runs the section.
 *
 * @example
 * ```ts
 * const result = await runDeconvnet(ctx);
 * ```
 */
export async function runDeconvnet(
  ctx: ReportContext,
  config?: DeconvnetConfig,
): Promise<DeconvnetSectionResult> {
  const t0 = Date.now();
  const cfg = config ?? deconvnetConfig(ctx.mode);
  const mnist = await sharedMnist(ctx);
  const cnn = await sharedReferenceCnn(ctx);
  const dn = new Deconvnet(cnn.model);
  try {
    const digits = await runDigits(ctx, cfg, dn, mnist.test);
    const scenes = await runScenes(ctx, cfg, cnn.model, mnist);
    const mobilenet = await runMobilenetDeconv(
      ctx,
      { pixels: mnist.test.pixels, labels: mnist.test.labels },
      cfg.mobilenet,
    );
    return {
      mode: ctx.mode,
      backend: ctx.backend,
      seconds: (Date.now() - t0) / 1000,
      mnist: { ...digits, testAccuracy: cnn.test.accuracy },
      scenes,
      config: cfg,
      mobilenet,
    };
  } finally {
    dn.dispose();
  }
}
