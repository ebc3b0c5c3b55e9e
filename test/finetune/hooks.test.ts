import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { augmentImages } from '../../src/finetune/augment.js';
import { trainWithGroups } from '../../src/transfer/train.js';
import { expectNoLeak } from '../helpers.js';

describe('trainWithGroups hooks used by finetune', () => {
  it('stops when onEpochEnd returns true and maps every batch through transformBatch', async () => {
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [2], units: 2, activation: 'softmax' })],
    });
    const x = tf.tensor2d([0, 1, 1, 0, 1, 1, 0, 0], [4, 2]);
    const seen: number[] = [];
    let batches = 0;
    await expectNoLeak(async () => {
      seen.length = 0;
      batches = 0;
      const h = await trainWithGroups(
        model,
        { x, labels: [0, 1, 1, 0] },
        {
          epochs: 5,
          batchSize: 2,
          onEpochEnd: (epoch) => {
            seen.push(epoch);
            return epoch === 2;
          },
          transformBatch: (xb) => {
            batches++;
            return tf.mul(xb, 2);
          },
        },
      );
      expect(h.loss).toHaveLength(2);
    });
    expect(seen).toEqual([1, 2]);
    expect(batches).toBe(4); // 2 epochs x 2 steps
    x.dispose();
    model.dispose();
  });
});

describe('augmentImages', () => {
  it('without cropping, returns each image or its mirror image, as drawn from the seed', async () => {
    const x = tf.tensor4d(
      Array.from({ length: 6 * 3 * 4 }, (_, i) => i),
      [6, 3, 4, 1],
    );
    const a = augmentImages(x, new Rng(3), { flip: true, minCrop: 1, copies: 1 });
    const b = augmentImages(x, new Rng(3), { flip: true, minCrop: 1, copies: 1 });
    const [va, vb, vx] = await Promise.all([a.data(), b.data(), x.data()]);
    expect(Array.from(va)).toEqual(Array.from(vb));
    let flipped = 0;
    for (let n = 0; n < 6; n++) {
      let same = true;
      let mirror = true;
      for (let y = 0; y < 3; y++) {
        for (let c = 0; c < 4; c++) {
          const v = va[n * 12 + y * 4 + c];
          if (v !== vx[n * 12 + y * 4 + c]) same = false;
          if (v !== vx[n * 12 + y * 4 + (3 - c)]) mirror = false;
        }
      }
      expect(same || mirror).toBe(true);
      if (mirror) flipped++;
    }
    expect(flipped).toBeGreaterThan(0);
    expect(flipped).toBeLessThan(6);
    tf.dispose([a, b]);
    await expectNoLeak(() => augmentImages(x, new Rng(1), { flip: true, minCrop: 0.7, copies: 1 }));
    x.dispose();
  });
});
