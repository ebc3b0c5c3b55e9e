/**
 * The deconvnet section's scene part (Zeiler & Fergus 2013, section 4.2): a classifier of single-digit scenes with
 * clutter, whose lower layers are the reference CNN's, and the occlusion test on held-out scenes.
 *
 * The classifier is a `LayerTransfer` cut: `new LayerTransfer(cnn, { copy: { name: 'conv2' }, inputShape: [40, 40,
 * 1] })` copies the reference CNN's stages up to conv2 (new variables holding its weights) into a model built for
 * 40x40 scenes, and `freeze()` fixes them. A conv head is not a `HeadSpec` (those replace the last Dense layer), so
 * the copy's layers up to `pool2` are applied to a new 40x40 input (Keras-style layer sharing) and a new head
 * (conv3, global max pooling, dense) is stacked on them; the copy's own upper stages (flatten, fc1, logits) are
 * left unused. The transfer object is disposed at once: the shared layers' reference counts keep the
 * copied weights alive in the scene model, which then owns them. Global max pooling lets the head find the digit
 * anywhere in the scene; a flatten + dense head (what the copy's own upper stages give) reached ~60% here.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  type Evaluation,
  evaluateClassifier,
  LayerTransfer,
  type OcclusionResult,
  type Scene,
  trainClassifier,
} from '../../../index.js';
import { cachedModel } from '../../shared.js';
import type { ReportContext } from '../../types.js';
import type { SceneConfig, ScenePoints } from './config.js';

/** The scene classifier and what the section reports about it. */
export interface SceneClassifier {
  /** The model (owned by the caller). */
  model: tfl.LayersModel;
  /** Paths of the layers `LayerTransfer` copied from the reference CNN (frozen). */
  copiedLayers: string[];
  /** Whether the model came from the report's disk cache. */
  fromCache: boolean;
}

/**
 * Builds the scene classifier from `cnn`: the copied, frozen stages up to `cfg.copy` (through `LayerTransfer`) and
 * a new head on the copy's `cfg.cut` output; untrained. `cnn` is left untouched.
 *
 * @example
 * ```ts
 * const { model, copiedLayers } = buildSceneModel(reference, deconvnetConfig('quick').scenes, 0);
 * ```
 */
export function buildSceneModel(
  cnn: tfl.LayersModel,
  cfg: SceneConfig,
  seed: number,
): { model: tfl.LayersModel; copiedLayers: string[] } {
  const transfer = new LayerTransfer(cnn, {
    copy: { name: cfg.copy },
    inputShape: [cfg.canvas, cfg.canvas, 1],
    seed,
  });
  try {
    transfer.freeze();
    const cutAt = transfer.model.layers.findIndex((l) => l.name === cfg.cut);
    if (cutAt < 0) throw new RangeError(`deconvnet scenes: the reference CNN has no layer \`${cfg.cut}\``);
    const input = tfl.input({ shape: [cfg.canvas, cfg.canvas, 1], name: 'scene' });
    let h = input;
    for (const layer of transfer.model.layers.slice(0, cutAt + 1)) {
      if (layer.getClassName() === 'InputLayer') continue;
      h = layer.apply(h) as tfl.SymbolicTensor;
    }
    const conv3 = tfl.layers.conv2d({
      filters: cfg.headFilters,
      kernelSize: 3,
      activation: 'relu',
      name: 'conv3',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 43 }),
    });
    const gmp = tfl.layers.globalMaxPooling2d({ name: 'gmp' });
    const logits = tfl.layers.dense({
      units: 10,
      name: 'logits',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 44 }),
    });
    const out = logits.apply(gmp.apply(conv3.apply(h))) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out, name: 'scene_cnn' });
    return { model, copiedLayers: [...transfer.copiedLayers] };
  } finally {
    // The scene model holds its own reference to the copied layers: their weights outlive the transfer object.
    transfer.dispose();
  }
}

/**
 * The scene classifier, trained on `train` (or loaded from the report's model cache under the same recipe).
 *
 * @example
 * ```ts
 * const scene = await sceneClassifier(ctx, cfg, cnn.model, trX, trY);
 * ```
 */
export async function sceneClassifier(
  ctx: ReportContext,
  cfg: SceneConfig,
  cnn: tfl.LayersModel,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
): Promise<SceneClassifier> {
  const key = { cfg, seed: ctx.seed, trainImages: x.shape[0] };
  const cached = await cachedModel(ctx, 'deconvnet-scenes', key, async () => {
    const { model, copiedLayers } = buildSceneModel(cnn, cfg, ctx.seed);
    try {
      await trainClassifier(model, x, y, {
        epochs: cfg.epochs,
        batchSize: cfg.batchSize,
        learningRate: cfg.learningRate,
        seed: ctx.seed,
        onProgress: (e) => ctx.progress({ ...e, phase: `deconvnet scene head ${e.phase}` }),
      });
    } catch (e) {
      model.dispose();
      throw e;
    }
    return { model, meta: { copiedLayers } };
  });
  return { model: cached.model, copiedLayers: cached.meta.copiedLayers, fromCache: cached.fromCache };
}

/** What the occlusion test found per scene, and summed over the scenes. */
export interface SceneOcclusion {
  points: ScenePoints;
  /** Mean over scenes of (baseline probability - the lowest probability under occlusion). */
  meanDrop: number;
}

/**
 * Per test scene: whether the occluder position that lowers the correct class's probability most has its centre in
 * the digit's box, the share of positions whose centre is in the box (chance), and whether the scene was classified
 * right without occlusion.
 *
 * @example
 * ```ts
 * const { points } = await sceneOcclusion(occ, scenes, predicted, 10);
 * ```
 */
export async function sceneOcclusion(
  occ: OcclusionResult,
  scenes: readonly Scene[],
  predicted: ArrayLike<number>,
  size: number,
): Promise<SceneOcclusion> {
  const probs = await occ.probability.data();
  const nr = occ.rows.length;
  const nc = occ.cols.length;
  const points: ScenePoints = { inside: [], chance: [], correct: [] };
  let drop = 0;
  scenes.forEach((s, i) => {
    const [y1, x1, y2, x2] = s.objects[0].box;
    const inBox = (r: number, c: number) => {
      const cy = occ.rows[r] + size / 2;
      const cx = occ.cols[c] + size / 2;
      return cy >= y1 && cy < y2 && cx >= x1 && cx < x2;
    };
    let best = 0;
    let hits = 0;
    for (let q = 0; q < nr * nc; q++) {
      if (probs[i * nr * nc + q] < probs[i * nr * nc + best]) best = q;
      if (inBox(Math.floor(q / nc), q % nc)) hits++;
    }
    drop += occ.baseline[i] - probs[i * nr * nc + best];
    points.inside.push(inBox(Math.floor(best / nc), best % nc) ? 1 : 0);
    points.chance.push(hits / (nr * nc));
    points.correct.push(predicted[i] === s.objects[0].label ? 1 : 0);
  });
  return { points, meanDrop: drop / scenes.length };
}

/** The classifier's test evaluation and its predicted classes. */
export async function evaluateScenes(
  model: tfl.LayersModel,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
): Promise<{ evaluation: Evaluation; predicted: Int32Array }> {
  const evaluation = await evaluateClassifier(model, { x, labels: y });
  const p = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor, 1));
  try {
    return { evaluation, predicted: (await p.data()) as Int32Array };
  } finally {
    p.dispose();
  }
}
