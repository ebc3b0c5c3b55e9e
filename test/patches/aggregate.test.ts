import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aggregatePatchScores,
  InvalidArgumentError,
  localizationMap,
  PatchSampler,
  ShapeMismatchError,
} from '../../src/index.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak } from '../helpers.js';

describe('patch scores to image scores', () => {
  it("power mean (Oquab's Eq., k = 5), max and mean equal plain loops", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer(),
        async (N, P, K, k, seed) => {
          const s = tf.randomUniform([N, P, K], 0, 1, 'float32', seed) as tf.Tensor3D;
          const v = await s.data();
          for (const method of ['power', 'max', 'mean'] as const) {
            const got = aggregatePatchScores(s, { method, power: k });
            expect(got.shape).toEqual([N, K]);
            const want: number[] = [];
            for (let n = 0; n < N; n++)
              for (let c = 0; c < K; c++) {
                let acc = method === 'max' ? -Infinity : 0;
                for (let p = 0; p < P; p++) {
                  const y = v[(n * P + p) * K + c];
                  if (method === 'max') acc = Math.max(acc, y);
                  else acc += method === 'power' ? y ** k : y;
                }
                want.push(method === 'max' ? acc : acc / P);
              }
            expectClose(await got.data(), want, 1e-5, 1e-4);
            got.dispose();
          }
          s.dispose();
        },
      ),
      { numRuns: 15 },
    );
  });

  it('defaults to the power mean with k = 5 and accepts one image as [patches, classes]', async () => {
    const s = tf.tensor2d([
      [0.9, 0.1],
      [0.2, 0.3],
    ]);
    const got = aggregatePatchScores(s);
    expect(got.shape).toEqual([2]);
    expectClose(await got.data(), [(0.9 ** 5 + 0.2 ** 5) / 2, (0.1 ** 5 + 0.3 ** 5) / 2], 1e-7);
    tf.dispose([s, got]);
    const ones = tf.ones([2, 3, 4]) as tf.Tensor3D;
    await expectNoLeak(() => aggregatePatchScores(ones, { method: 'power' }));
    expect(ones.isDisposed).toBe(false); // never disposes the caller's input
    ones.dispose();
  });

  it('the localisation map is, per pixel, the mean score of the patches covering it (plain loop)', async () => {
    const grid = new PatchSampler({ scales: 3, smallest: 0.4 }).grid({ height: 20, width: 14 });
    const N = 2;
    const K = 3;
    const s = tf.randomUniform([N, grid.count, K], 0, 1, 'float32', 5) as tf.Tensor3D;
    const v = await s.data();
    const map = localizationMap(s, grid, { maxChunkBytes: 1 }); // one image per chunk
    expect(map.shape).toEqual([N, 20, 14, K]);
    const want = new Float32Array(N * 20 * 14 * K);
    for (let n = 0; n < N; n++)
      for (let y = 0; y < 20; y++)
        for (let x = 0; x < 14; x++)
          for (let c = 0; c < K; c++) {
            let sum = 0;
            let cnt = 0;
            for (let p = 0; p < grid.count; p++) {
              const [y1, x1, y2, x2] = grid.boxes.subarray(4 * p, 4 * p + 4);
              if (y >= y1 && y < y2 && x >= x1 && x < x2) {
                sum += v[(n * grid.count + p) * K + c];
                cnt++;
              }
            }
            want[((n * 20 + y) * 14 + x) * K + c] = cnt ? sum / cnt : 0;
          }
    expectClose(await map.data(), want, 1e-5);
    const s1 = tf.squeeze(tf.slice(s, [1, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D;
    const one = localizationMap(s1, grid);
    expectClose(await one.data(), want.subarray(20 * 14 * K), 1e-5);
    tf.dispose([map, one, s1]);
    await expectNoLeak(() => localizationMap(s, grid));
    s.dispose();
  });

  it('rejects bad scores, options and grids before allocating', async () => {
    const s = tf.ones([1, 4, 2]) as tf.Tensor3D;
    const grid = new PatchSampler({ scales: 1 }).grid({ height: 16, width: 16 });
    await expectThrowsNoLeak(
      () => aggregatePatchScores(s, { method: 'median' as never }),
      InvalidArgumentError,
      /`options.method`/,
    );
    await expectThrowsNoLeak(
      () => aggregatePatchScores(s, { power: 0 }),
      InvalidArgumentError,
      /`options.power`/,
    );
    const flat = tf.ones([4]);
    await expectThrowsNoLeak(() => aggregatePatchScores(flat as never), ShapeMismatchError, /rank 2 or 3/);
    flat.dispose();
    await expectThrowsNoLeak(() => localizationMap(s, grid), ShapeMismatchError, /1 patches/);
    s.dispose();
  });
});
