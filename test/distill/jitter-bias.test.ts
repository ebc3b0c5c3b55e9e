import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import {
  applyBiasShift,
  evaluateClassifier,
  fitBiasShift,
  InvalidArgumentError,
  jitterImages,
  Rng,
  ShapeMismatchError,
} from '../../src/index.js';
import { randomShifts, shiftImages } from '../../src/internal.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak, values } from '../helpers.js';
import { matrix } from './oracle.js';

/** Plain-JS shift of one HxW single-channel image. */
function shiftJs(img: number[], h: number, w: number, dy: number, dx: number): number[] {
  const out = new Array<number>(h * w).fill(0);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const sr = r - dy;
      const sc = c - dx;
      if (sr >= 0 && sr < h && sc >= 0 && sc < w) out[r * w + c] = img[sr * w + sc];
    }
  }
  return out;
}

describe('jitter', () => {
  it('shifts each image by whole pixels with a zero border, like a plain loop', async () => {
    const h = 7;
    const w = 6;
    const imgs = matrix(3, h * w, 21, 1).map((r) => r.map((v) => v + 2));
    const x = tf.tensor4d(imgs.flat(), [3, h, w, 1]);
    const shifts: [number, number][] = [
      [2, -1],
      [0, 0],
      [-2, 2],
    ];
    const y = shiftImages(x as tf.Tensor4D, shifts);
    const expected = imgs.flatMap((im, i) => shiftJs(im, h, w, shifts[i][0], shifts[i][1]));
    expectClose(await values(y), expected, 1e-6);
    await expectNoLeak(() => shiftImages(x as tf.Tensor4D, shifts));
    await expectThrowsNoLeak(
      () => shiftImages(x as tf.Tensor4D, [[1, 1]]),
      ShapeMismatchError,
      /3 \[dy, dx\]/,
    );
    await expectThrowsNoLeak(
      () =>
        shiftImages(x as tf.Tensor4D, [
          [0.5, 0],
          [0, 0],
          [0, 0],
        ]),
      InvalidArgumentError,
      /shifts\[0\]/,
    );
    const j = jitterImages(x as tf.Tensor4D, 2, new Rng(3));
    expect(j.shape).toEqual([3, h, w, 1]);
    tf.dispose([x, y, j]);
  });

  it('draws shifts uniformly in [-m, m]^2 from the seed', () => {
    const s = randomShifts(2000, 2, new Rng(1));
    expect(s).toEqual(randomShifts(2000, 2, new Rng(1)));
    const counts = new Map<string, number>();
    for (const [dy, dx] of s) counts.set(`${dy},${dx}`, (counts.get(`${dy},${dx}`) ?? 0) + 1);
    const keys = [...counts.keys()].map((k) => k.split(',').map(Number));
    expect(keys.every(([dy, dx]) => Math.abs(dy) <= 2 && Math.abs(dx) <= 2)).toBe(true);
    expect(counts.size).toBe(25);
    expect(Math.min(...counts.values())).toBeGreaterThan(40); // 80 expected each
  });
});

/** A "model" whose predict returns its input: the inputs are logits. */
const identity = { predict: (x: tf.Tensor) => tf.clone(x) };

describe('bias correction', () => {
  it('fits the shift that restores a suppressed class (convex NLL search vs a brute-force grid)', async () => {
    // 300 examples, 4 classes: the logits favour the true class by 2, but class 3's logit is lowered by 4, as a
    // student that never saw a 3 would have it.
    const n = 300;
    const rng = new Rng(5);
    const labels: number[] = [];
    const logits: number[] = [];
    for (let i = 0; i < n; i++) {
      const y = i % 4;
      labels.push(y);
      for (let c = 0; c < 4; c++) logits.push(rng.normal() + (c === y ? 2 : 0) - (c === 3 ? 4 : 0));
    }
    const x = tf.tensor2d(logits, [n, 4]);
    const y = tf.tensor1d(labels, 'int32');
    const fit = await fitBiasShift(identity, { x, labels: y }, { classes: [3] });
    // Brute force over a fine grid in plain JS.
    const nll = (s: number) => {
      let total = 0;
      for (let i = 0; i < n; i++) {
        const row = [0, 1, 2, 3].map((c) => logits[i * 4 + c] + (c === 3 ? s : 0));
        const m = Math.max(...row);
        total += m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) - row[labels[i]];
      }
      return total / n;
    };
    let best = 0;
    let bestNll = nll(0);
    for (let s = 0; s <= 8; s += 0.01) {
      const v = nll(s);
      if (v < bestNll) [best, bestNll] = [s, v];
    }
    expect(Math.abs(fit.shift - best)).toBeLessThan(0.02);
    expect(fit.shift).toBeGreaterThan(2.5);
    expect(fit.before.perClassErrors[3]).toBeGreaterThan(60);
    expect(fit.after.perClassErrors[3]).toBeLessThan(fit.before.perClassErrors[3] / 3);
    expect(fit.after.errors).toBeLessThan(fit.before.errors);
    const byError = await fitBiasShift(identity, { x, labels: y }, { classes: [3], objective: 'error' });
    expect(byError.after.errors).toBeLessThanOrEqual(fit.after.errors);
    // LabeledData: plain-array labels give the same fit as the int32 tensor.
    const fromArray = await fitBiasShift(identity, { x, labels }, { classes: [3] });
    expect(fromArray.shift).toBe(fit.shift);
    await expectNoLeak(() => fitBiasShift(identity, { x, labels: y }, { classes: [3] }));
    await expectThrowsNoLeak(
      () => fitBiasShift(identity, { x, labels: y }, { classes: [4] }),
      InvalidArgumentError,
      /< 4/,
    );
    await expectThrowsNoLeak(
      () => fitBiasShift(identity, { x, labels: y }, { classes: [] }),
      InvalidArgumentError,
      /classes/,
    );
    const badY = tf.tensor1d([0, 1], 'int32');
    await expectThrowsNoLeak(
      () => fitBiasShift(identity, { x, labels: badY }, { classes: [3] }),
      ShapeMismatchError,
      /\[300\]/,
    );
    await expectThrowsNoLeak(
      () => fitBiasShift(identity, { x, labels: [0, 1] }, { classes: [3] }),
      ShapeMismatchError,
      /data\.labels.*\[300\]/,
    );
    tf.dispose([x, y, badY]);
  });

  it('adds the shift to the output bias of a layers model, raising those logits by exactly that much', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 5, inputShape: [3], activation: 'relu' }),
        tfl.layers.dense({ units: 4, name: 'out' }),
      ],
    });
    const x = tf.tensor2d(matrix(6, 3, 2));
    const before = await values(tf.tidy(() => model.predict(x) as tf.Tensor));
    const n0 = tf.memory().numTensors;
    applyBiasShift(model, [1, 3], 3.5);
    expect(tf.memory().numTensors).toBe(n0);
    const after = await values(tf.tidy(() => model.predict(x) as tf.Tensor));
    expectClose(
      after,
      before.map((v, i) => v + ([1, 3].includes(i % 4) ? 3.5 : 0)),
      1e-5,
    );
    const y = tf.tensor1d([0, 1, 2, 3, 0, 1], 'int32');
    const score = await evaluateClassifier(model, { x, labels: y });
    expect(score.perClassCounts).toEqual([2, 2, 1, 1]);
    expect(() => applyBiasShift(model, [4], 1)).toThrow(InvalidArgumentError);
    expect(() => applyBiasShift(model, [0], 1, { layer: 'nope' })).toThrow(/layer with a bias/);
    tf.dispose([x, y]);
    model.dispose();
  });
});
