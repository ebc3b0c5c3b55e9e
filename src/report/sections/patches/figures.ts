/**
 * The patches section's sample figures: a test scene with its positive patches and object boxes, and the
 * localisation maps of the digits it holds (Oquab et al. 2014, fig. 5-style).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  localizationMap,
  type PatchGrid,
  type PatchSampler,
  patchGridSvg,
  type RgbaImage,
  type Scene,
} from '../../../index.js';
import { colormap, pngDataUri } from '../../../internal.js';
import type { PatchSample } from './config.js';

const NUM_CLASSES = 10;

function greyPng(pixels: Float32Array, h: number, w: number): string {
  const data = new Uint8ClampedArray(h * w * 4);
  for (let i = 0; i < h * w; i++) {
    const v = Math.round(255 * Math.min(1, Math.max(0, pixels[i])));
    data.set([v, v, v, 255], 4 * i);
  }
  return pngDataUri({ width: w, height: h, data } satisfies RgbaImage);
}

function mapPng(values: Float32Array, h: number, w: number): string {
  let hi = 0;
  for (const v of values) hi = Math.max(hi, v);
  const data = new Uint8ClampedArray(h * w * 4);
  for (let i = 0; i < h * w; i++) {
    const [r, g, b] = colormap('viridis', hi > 0 ? values[i] / hi : 0);
    data.set([r, g, b, 255], 4 * i);
  }
  return pngDataUri({ width: w, height: h, data });
}

/** Up to three test scenes with two digits or more: the positive patches and localisation maps. */
export async function sampleFigures(
  test: readonly Scene[],
  digitScores: tf.Tensor3D,
  power: ArrayLike<number>,
  grid: PatchGrid,
  sampler: PatchSampler,
  canvas: number,
): Promise<PatchSample[]> {
  const picks = test
    .map((s, i) => [s, i] as const)
    .filter(([s]) => s.objects.length >= 2)
    .slice(0, 3);
  const samples: PatchSample[] = [];
  for (const [scene, i] of picks) {
    const scoresI = tf.tidy(
      () => tf.squeeze(tf.slice(digitScores, [i, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D,
    );
    const maps = localizationMap(scoresI, grid);
    const all = await maps.data();
    tf.dispose([scoresI, maps]);
    const truth = [...new Set(scene.objects.map((o) => o.label))].sort((a, b) => a - b);
    const labels = sampler.label(grid, scene.objects, { numClasses: NUM_CLASSES });
    samples.push({
      gridSvg: patchGridSvg(grid, {
        imageHref: greyPng(scene.pixels, canvas, canvas),
        objects: scene.objects,
        labels,
        positivesOnly: true,
        zoom: 2,
      }),
      maps: truth.slice(0, 2).map((c) => {
        const one = new Float32Array(canvas * canvas);
        for (let p = 0; p < one.length; p++) one[p] = all[p * NUM_CLASSES + c];
        return { digit: c, png: mapPng(one, canvas, canvas), score: power[i * NUM_CLASSES + c] };
      }),
      truth,
      ranked: Array.from({ length: NUM_CLASSES }, (_, c) => c)
        .sort((a, b) => power[i * NUM_CLASSES + b] - power[i * NUM_CLASSES + a])
        .slice(0, 3),
    });
  }
  return samples;
}
