import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { cropAndResize, cropAndResizeByGather } from '../../src/core/crop.js';
import { Rng } from '../../src/index.js';
import { expectClose, expectNoLeak } from '../helpers.js';

/** tfjs / TensorFlow's CropAndResize as a plain loop (the oracle). */
function oracle(
  img: Float32Array,
  [, H, W, C]: number[],
  boxes: number[],
  ind: number[],
  [ch, cw]: [number, number],
  method: 'bilinear' | 'nearest',
  extrapolation: number,
): number[] {
  const out: number[] = [];
  const at = (b: number, y: number, x: number, c: number) => img[((b * H + y) * W + x) * C + c];
  for (let i = 0; i < ind.length; i++) {
    const [y1, x1, y2, x2] = boxes.slice(4 * i, 4 * i + 4);
    for (let r = 0; r < ch; r++) {
      const y = ch > 1 ? y1 * (H - 1) + (r * (y2 - y1) * (H - 1)) / (ch - 1) : 0.5 * (y1 + y2) * (H - 1);
      for (let k = 0; k < cw; k++) {
        const x = cw > 1 ? x1 * (W - 1) + (k * (x2 - x1) * (W - 1)) / (cw - 1) : 0.5 * (x1 + x2) * (W - 1);
        for (let c = 0; c < C; c++) {
          if (y < 0 || y > H - 1 || x < 0 || x > W - 1) {
            out.push(extrapolation);
          } else if (method === 'nearest') {
            out.push(at(ind[i], Math.round(y), Math.round(x), c));
          } else {
            const [t, b, l, rr] = [Math.floor(y), Math.ceil(y), Math.floor(x), Math.ceil(x)];
            const top = at(ind[i], t, l, c) + (at(ind[i], t, rr, c) - at(ind[i], t, l, c)) * (x - l);
            const bot = at(ind[i], b, l, c) + (at(ind[i], b, rr, c) - at(ind[i], b, l, c)) * (x - l);
            out.push(top + (bot - top) * (y - t));
          }
        }
      }
    }
  }
  return out;
}

describe('cropAndResizeByGather (the GPU backends form of cropAndResize)', () => {
  const rng = new Rng(3);
  const shape = [3, 9, 7, 2];
  const data = Float32Array.from({ length: 3 * 9 * 7 * 2 }, () => rng.uniform());
  // Boxes in and partly outside the image, flipped (y2 < y1), and a one-row / one-column crop.
  const boxes = [
    0, 0, 1, 1, 0.1, 0.25, 0.8, 0.6, 0.9, 0.7, 0.2, 0.1, -0.2, 0.3, 0.5, 1.3, 0.33, 0.33, 0.34, 0.34,
  ];
  const ind = [2, 0, 1, 2, 1];

  for (const method of ['bilinear', 'nearest'] as const) {
    for (const size of [
      [4, 5],
      [1, 3],
      [6, 1],
    ] as [number, number][]) {
      it(`matches the plain loop: ${method}, crop ${size}`, async () => {
        const images = tf.tensor4d(data, shape as [number, number, number, number]);
        const out = cropAndResizeByGather(images, boxes, ind, size, method, method === 'nearest' ? -1 : 0);
        expect(out.shape).toEqual([5, size[0], size[1], 2]);
        expectClose(
          await out.data(),
          oracle(data, shape, boxes, ind, size, method, method === 'nearest' ? -1 : 0),
          1e-6,
        );
        tf.dispose([images, out]);
      });
    }
  }

  it('leaves no tensor behind, casts int32 images, and cropAndResize agrees on this backend', async () => {
    const images = tf.tensor4d(data, shape as [number, number, number, number]);
    await expectNoLeak(() => cropAndResizeByGather(images, boxes, ind, [4, 5]));
    await expectNoLeak(() => cropAndResize(images, boxes, ind, [4, 5]));
    const ints = tf.cast(tf.mul(images, 10), 'int32') as tf.Tensor4D;
    const a = cropAndResizeByGather(ints, boxes.slice(0, 8), [0, 1], [3, 3]);
    const b = cropAndResize(ints, boxes.slice(0, 8), [0, 1], [3, 3]);
    expect(a.dtype).toBe('float32');
    expectClose(await a.data(), await b.data(), 1e-5);
    tf.dispose([images, ints, a, b]);
  });
});
