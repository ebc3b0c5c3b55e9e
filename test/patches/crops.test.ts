import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cropBoxes,
  cropGridChunks,
  InvalidArgumentError,
  type LabelledBox,
  PatchDataset,
  PatchSampler,
  type PredictModel,
  predictPatches,
  ShapeMismatchError,
} from '../../src/index.js';
import { BACKGROUND } from '../../src/internal.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak } from '../helpers.js';

function randomImages(n: number, h: number, w: number, c: number, seed = 1): tf.Tensor4D {
  return tf.randomUniform([n, h, w, c], 0, 1, 'float32', seed) as tf.Tensor4D;
}

function countCropAndResize(kernels: { name: string }[]): number {
  return kernels.filter((k) => k.name === 'CropAndResize').length;
}

describe('batched crops', () => {
  it('cropAndResize of integer boxes to their own size equals the slice (bilinear and nearest)', async () => {
    const images = randomImages(2, 17, 13, 2);
    const [N, H, W] = images.shape;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: N - 1 }),
        fc.integer({ min: 0, max: H - 1 }),
        fc.integer({ min: 0, max: W - 1 }),
        fc.integer({ min: 1, max: H }),
        fc.integer({ min: 1, max: W }),
        fc.constantFrom('bilinear' as const, 'nearest' as const),
        async (b, y, x, h0, w0, method) => {
          const h = Math.min(h0, H - y);
          const w = Math.min(w0, W - x);
          const crop = cropBoxes(images, [y, x, y + h, x + w], [b], [h, w], { method });
          const slice = tf.slice(images, [b, y, x, 0], [1, h, w, -1]);
          // exact on cpu; on wasm the samples move by < 1e-5 px (the memcpy work-around), values are in [0, 1]
          expectClose(await crop.data(), await slice.data(), tf.getBackend() === 'wasm' ? 1e-5 : 1e-6);
          tf.dispose([crop, slice]);
        },
      ),
      { numRuns: 25 },
    );
    images.dispose();
  });

  it('is exact where the wasm kernel copies rows from column 0 (boxes as wide as the crop, x1 > 0)', async () => {
    const images = tf.reshape(tf.range(0, 64, 1, 'float32'), [1, 8, 8, 1]) as tf.Tensor4D;
    for (const method of ['bilinear', 'nearest'] as const) {
      const crop = cropBoxes(images, [0, 3, 4, 7], [0], [2, 4], { method }); // rows 0 and 3, columns 3..6
      expectClose(await crop.data(), [3, 4, 5, 6, 27, 28, 29, 30], 1e-4);
      crop.dispose();
    }
    images.dispose();
  });

  it('crops a whole grid with ONE cropAndResize per memory-bounded chunk, in image-then-patch order', async () => {
    const images = randomImages(5, 32, 32, 1, 2);
    const grid = new PatchSampler({ scales: 3, smallest: 0.4 }).grid({ height: 32, width: 32 });
    const bytesPerImage = grid.count * 8 * 8 * 1 * 4;
    const chunks: { start: number; end: number; values: Float32Array }[] = [];
    const profile = await tf.profile(async () => {
      for (const c of cropGridChunks(images, grid, [8, 8], { maxChunkBytes: 2 * bytesPerImage })) {
        chunks.push({ start: c.imageStart, end: c.imageEnd, values: (await c.crops.data()) as Float32Array });
        expect(c.crops.shape).toEqual([(c.imageEnd - c.imageStart) * grid.count, 8, 8, 1]);
        c.crops.dispose();
      }
    });
    expect(chunks.map((c) => [c.start, c.end])).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
    expect(countCropAndResize(profile.kernels)).toBe(3);
    // oracle: each patch cropped on its own
    const imageIdx: number[] = [];
    for (let i = 2; i < 4; i++) for (let p = 0; p < grid.count; p++) imageIdx.push(i);
    const boxes = Array.from({ length: 2 }, () => Array.from(grid.boxes)).flat();
    const each = cropBoxes(images, boxes, imageIdx, [8, 8]);
    expectClose(chunks[1].values, await each.data(), 1e-6);
    each.dispose();
    images.dispose();
  });

  it('predictPatches equals a per-patch loop and frees everything but its result', async () => {
    const images = randomImages(3, 24, 24, 1, 3);
    const grid = new PatchSampler({ scales: 2, smallest: 0.5 }).grid({ height: 24, width: 24 });
    // a tiny "model": class 0 = mean intensity, class 1 = 1 - mean
    const model: PredictModel = {
      predict: (x) =>
        tf.tidy(() => {
          const m = tf.reshape(tf.mean(x, [1, 2, 3]), [-1, 1]);
          return tf.concat([m, tf.sub(1, m)], 1);
        }),
    };
    const scores = await predictPatches(model, images, grid, [6, 6], { batchSize: 7, maxChunkBytes: 1000 });
    expect(scores.shape).toEqual([3, grid.count, 2]);
    const got = await scores.data();
    const want: number[] = [];
    for (let i = 0; i < 3; i++)
      for (let p = 0; p < grid.count; p++) {
        const crop = cropBoxes(images, Array.from(grid.boxes.subarray(4 * p, 4 * p + 4)), [i], [6, 6]);
        const m = (await tf.mean(crop).data())[0];
        want.push(m, 1 - m);
        crop.dispose();
      }
    expectClose(got, want, 1e-5);
    scores.dispose();
    await expectNoLeak(() => predictPatches(model, images, grid, [6, 6], { activation: 'softmax' }));
    images.dispose();
  });

  it('PatchDataset yields crops and one-hot targets (background last) of the seeded selection', async () => {
    const images = randomImages(3, 32, 32, 1, 4);
    const sampler = new PatchSampler({ scales: 4, smallest: 0.3 });
    const objects: LabelledBox[][] = [
      [{ box: [2, 2, 16, 16], label: 1 }],
      [{ box: [10, 12, 30, 30], label: 0 }],
      [],
    ];
    const data = new PatchDataset(images, objects, sampler, {
      numClasses: 2,
      cropSize: [8, 8],
      batchSize: 5,
      seed: 9,
    });
    const sel = data.selection(0);
    expect(sel.background).toBe(sel.positives);
    let seen = 0;
    for await (const batch of data.batches(0)) {
      const y = await batch.y.data();
      const x = await batch.x.data();
      for (let i = 0; i < batch.image.length; i++) {
        expect(batch.image[i]).toBe(sel.image[seen + i]);
        expect(batch.patch[i]).toBe(sel.patch[seen + i]);
        const lab = data.labels[batch.image[i]].label[batch.patch[i]];
        const row = Array.from(y.subarray(3 * i, 3 * i + 3));
        expect(row).toEqual(lab === BACKGROUND ? [0, 0, 1] : lab === 0 ? [1, 0, 0] : [0, 1, 0]);
      }
      const p = batch.patch[0];
      const oracle = cropBoxes(
        images,
        Array.from(data.grid.boxes.subarray(4 * p, 4 * p + 4)),
        [batch.image[0]],
        [8, 8],
      );
      expectClose(x.subarray(0, 64), await oracle.data(), 1e-6);
      seen += batch.image.length;
      tf.dispose([batch.x, batch.y, oracle]);
    }
    expect(seen).toBe(data.size);
    // another epoch draws another background sample and order; the same epoch is reproducible
    expect(data.selection(1).patch).not.toEqual(sel.patch);
    expect(data.selection(0).patch).toEqual(sel.patch);
    await expectNoLeak(async () => {
      for await (const b of data.batches(1)) tf.dispose([b.x, b.y]);
    });
    images.dispose();
    // the images are the caller's: once they are gone, the data set says so instead of reading freed memory
    await expectThrowsNoLeak(
      async () => {
        for await (const b of data.batches(0)) tf.dispose([b.x, b.y]);
      },
      InvalidArgumentError,
      /not disposed/,
    );
  });

  it('rejects boxes outside the image or inverted, bad indices and mismatched grids, leaking nothing', async () => {
    const images = randomImages(2, 16, 16, 1);
    const grid = new PatchSampler({ scales: 2 }).grid({ height: 20, width: 20 });
    await expectThrowsNoLeak(
      () => cropBoxes(images, [0, 0, 17, 8], [0], [4, 4]),
      InvalidArgumentError,
      /inside the 16x16 image/,
    );
    await expectThrowsNoLeak(
      () => cropBoxes(images, [8, 0, 4, 8], [0], [4, 4]),
      InvalidArgumentError,
      /not inverted/,
    );
    await expectThrowsNoLeak(
      () => cropBoxes(images, [0, 0, 4, 4], [2], [4, 4]),
      InvalidArgumentError,
      /`boxImage\[0\]`.*\[0, 1\]/,
    );
    await expectThrowsNoLeak(
      () => cropBoxes(images, [0, 0, 4, 4], [0], [0, 4]),
      InvalidArgumentError,
      /`cropSize`/,
    );
    await expectThrowsNoLeak(() => cropGridChunks(images, grid, [4, 4]), ShapeMismatchError, /20, 20/);
    await expectThrowsNoLeak(
      () =>
        new PatchDataset(images, [[]], new PatchSampler({ scales: 2 }), { numClasses: 2, cropSize: [4, 4] }),
      InvalidArgumentError,
      /`objects`/,
    );
    await expectThrowsNoLeak(
      () =>
        new PatchDataset(images, [[], []], new PatchSampler({ scales: 2 }), {
          numClasses: 2,
          cropSize: [4, 4],
          backgroundRatio: -1,
        }),
      InvalidArgumentError,
      /`options.backgroundRatio`/,
    );
    await expectThrowsNoLeak(
      () =>
        predictPatches(
          { predict: () => tf.zeros([1, 2, 3]) },
          images,
          new PatchSampler({ scales: 1 }).grid({ height: 16, width: 16 }),
          [4, 4],
        ),
      ShapeMismatchError,
      /`model`/,
    );
    // a model that fails half-way: the chunk and the scores so far are freed
    let calls = 0;
    const flaky: PredictModel = {
      predict: (x) => {
        if (++calls === 2) throw new Error('boom');
        return tf.zeros([x.shape[0], 2]);
      },
    };
    const grid16 = new PatchSampler({ scales: 2 }).grid({ height: 16, width: 16 });
    await expectThrowsNoLeak(
      () => predictPatches(flaky, images, grid16, [4, 4], { batchSize: 1 }),
      Error,
      /boom/,
    );
    images.dispose();
  });
});
