/**
 * Bench suite `patches`: Oquab-style patch extraction. Measures the whole pipeline (grid + labels + crops to 28x28,
 * ONE cropAndResize per chunk) against a naive loop of one slice + resizeBilinear per patch, on the active backend,
 * and the cost of labelling ~500 patches against 4 object boxes in plain TypeScript.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cropGridChunks, type LabelledBox, labelPatches, PatchSampler } from '../src/index.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { timeMedian } from './util.js';

/** Four digit-sized boxes spread over a `size x size` scene. */
function objectsFor(size: number, i: number): LabelledBox[] {
  const s = Math.round(size * 0.3);
  const o = (i * 7) % Math.max(1, size - 2 * s);
  return [
    { box: [o, o, o + s, o + s], label: 1 },
    { box: [o, size - s, o + s, size], label: 2 },
    { box: [size - s, o, size, o + s], label: 3 },
    { box: [size - s, size - s - o, size, size - o], label: 4 },
  ];
}

export const suite: BenchSuite = {
  id: 'patches',
  title: 'Oquab patches: grid + labels + batched cropAndResize vs per-patch slice + resize; labelling cost',
  async run(opts: BenchOptions): Promise<BenchRecord[]> {
    const size = 96;
    const crop: [number, number] = [28, 28];
    const nImages = opts.quick ? 2 : 8;
    const repeats = opts.quick ? 7 : 9;
    const images = tf.randomUniform([nImages, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const objects = Array.from({ length: nImages }, (_, i) => objectsFor(size, i));
    const patchesPerImage = new PatchSampler().grid({ height: size, width: size }).count;
    const total = nImages * patchesPerImage;
    try {
      // Batched pipeline: a fresh sampler each time, so the grid is computed too.
      const batched = await timeMedian(
        async () => {
          const sampler = new PatchSampler();
          const grid = sampler.grid({ height: size, width: size });
          for (const objs of objects) sampler.label(grid, objs, { numClasses: 10 });
          for (const { crops } of cropGridChunks(images, grid, crop)) {
            await crops.data();
            crops.dispose();
          }
        },
        { samples: repeats },
      );
      // Naive: one slice + resizeBilinear per patch (same grid, same labels).
      const naive = await timeMedian(
        async () => {
          const sampler = new PatchSampler();
          const grid = sampler.grid({ height: size, width: size });
          for (const objs of objects) sampler.label(grid, objs, { numClasses: 10 });
          const last: tf.Tensor[] = [];
          for (let i = 0; i < nImages; i++) {
            for (let p = 0; p < grid.count; p++) {
              const [y1, x1, y2, x2] = grid.boxes.subarray(4 * p, 4 * p + 4);
              const t = tf.tidy(() =>
                tf.image.resizeBilinear(
                  tf.slice(images, [i, y1, x1, 0], [1, y2 - y1, x2 - x1, 1]) as tf.Tensor4D,
                  crop,
                  true,
                ),
              );
              last.push(t);
            }
          }
          await Promise.all(last.map((t) => t.data()));
          tf.dispose(last);
        },
        { samples: opts.quick ? 2 : 3 },
      );
      const mb = batched.medianMs;
      const mn = naive.medianMs;
      // Labelling only: ~500 patches x 4 boxes.
      const grid = new PatchSampler().grid({ height: size, width: size });
      const inner = 200;
      const lab = await timeMedian(
        () => {
          for (let k = 0; k < inner; k++) labelPatches(grid.boxes, objects[k % nImages], { numClasses: 10 });
        },
        { samples: 5 },
      );
      const perLabel = lab.medianMs / inner;
      const naiveName = `naive per-patch slice + resizeBilinear (${tf.getBackend()})`;
      return [
        {
          name: naiveName,
          medianMs: mn,
          opsPerSec: (total * 1000) / mn,
          unit: 'patch',
          extra: { images: nImages, patchesPerImage, crop: '28x28' },
        },
        {
          name: `grid + labels + one cropAndResize per chunk (${tf.getBackend()})`,
          medianMs: mb,
          opsPerSec: (total * 1000) / mb,
          unit: 'patch',
          ratios: [{ baseline: naiveName, speedup: mn / mb }],
          extra: { images: nImages, patchesPerImage, crop: '28x28' },
        },
        {
          name: `labelPatches: ${grid.count} patches x 4 boxes`,
          medianMs: perLabel,
          opsPerSec: 1000 / perLabel,
          unit: 'image',
          extra: { microseconds: Math.round(perLabel * 1000 * 10) / 10 },
        },
      ];
    } finally {
      images.dispose();
    }
  },
};
