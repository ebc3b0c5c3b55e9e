import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeMismatchError } from '../../src/core/errors.js';
import type { FeatureMatrix } from '../../src/features/matrix.js';
import { type FeatureCache, finetune } from '../../src/finetune/index.js';
import { expectThrowsNoLeak } from '../helpers.js';
import { colourTensors, tinyBackbone } from './fixtures.js';

const CLASSES = ['red', 'green', 'blue'];
let backbone: tfl.LayersModel;
let data: { x: tf.Tensor4D; labels: number[] };

beforeAll(() => {
  backbone = tinyBackbone();
  data = colourTensors(20, 12, 1);
});
afterAll(() => {
  backbone.dispose();
  data.x.dispose();
});

describe('finetune', () => {
  it('learns a separable task on cached features, far above chance, without leaking', async () => {
    const before = tf.memory().numTensors;
    const epochs: number[] = [];
    const r = await finetune(
      backbone,
      { train: data, classNames: CLASSES },
      { epochs: 40, seed: 1, learningRate: 0.03, onEpoch: (e) => epochs.push(e.epoch) },
    );
    try {
      expect(r.metrics.counts).toEqual({ train: 48, val: 12 });
      expect(r.metrics.valAccuracy).toBeGreaterThanOrEqual(0.8);
      expect(r.metrics.featureLayer).toBe('gap');
      expect(r.metrics.featureDim).toBe(8);
      expect(r.classNames).toEqual(CLASSES);
      expect(epochs.length).toBe(r.metrics.epochs.head);
      // The confusion matrix counts the validation predictions.
      const flat = r.metrics.confusion.flat();
      expect(flat.reduce((a, b) => a + b, 0)).toBe(12);
      const diag = r.metrics.confusion.reduce((s, row, i) => s + row[i], 0);
      expect(diag / 12).toBeCloseTo(r.metrics.valAccuracy, 10);
      // The returned model maps images to the class probabilities the metrics were computed from.
      const idx = r.val.indices;
      const p = tf.tidy(() => r.model.predict(tf.gather(data.x, idx)) as tf.Tensor);
      const probs = await p.array();
      p.dispose();
      (probs as number[][]).forEach((row, i) => {
        expect(row.indexOf(Math.max(...row))).toBe(r.val.predicted[i]);
      });
      // The backbone is untouched and owned by the caller.
      expect(backbone.layers[0].getWeights()[0].isDisposed).toBe(false);
    } finally {
      r.model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is deterministic per seed', async () => {
    const run = async (seed: number) => {
      const r = await finetune(backbone, { train: data, classNames: CLASSES }, { epochs: 3, seed });
      const w = await r.model.layers[r.model.layers.length - 1].getWeights()[0].data();
      r.model.dispose();
      return { w: Array.from(w), split: r.split, loss: r.history.map((h) => h.loss) };
    };
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    expect(a).toEqual(b);
    expect(c.w).not.toEqual(a.w);
  });

  it('fine-tunes the top stage end to end at a lower rate, keeping the bottom stage frozen', async () => {
    const before = tf.memory().numTensors;
    const conv1 = Array.from(await backbone.getLayer('conv1').getWeights()[0].data());
    const r = await finetune(
      backbone,
      { train: data, val: data, classNames: CLASSES },
      { epochs: 5, unfreeze: 1, fineTuneEpochs: 2, patience: 5, seed: 2, augment: { copies: 1 } },
    );
    try {
      expect(r.history.filter((h) => h.stage === 'finetune').length).toBeGreaterThan(0);
      expect(r.metrics.unfreeze).toBe(1);
      expect(r.metrics.counts).toEqual({ train: 60, val: 60 });
      // The frozen stage keeps the backbone's weights; the backbone itself is unchanged.
      expect(Array.from(await r.model.getLayer('conv1').getWeights()[0].data())).toEqual(conv1);
      expect(Array.from(await backbone.getLayer('conv1').getWeights()[0].data())).toEqual(conv1);
      // The unfrozen stage moved (when an epoch beat the head stage).
      const conv2 = Array.from(await backbone.getLayer('conv2').getWeights()[0].data());
      const tuned = Array.from(await r.model.getLayer('conv2').getWeights()[0].data());
      if (r.metrics.epochs.finetuneBest > 0) expect(tuned).not.toEqual(conv2);
      else expect(tuned).toEqual(conv2);
      // The kept epoch is never worse than the head stage on the validation loss.
      const headBest = Math.min(...r.history.filter((h) => h.stage === 'head').map((h) => h.valLoss));
      expect(r.metrics.valLoss).toBeLessThanOrEqual(headBest + 1e-4);
    } finally {
      r.model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads chunk features from the cache on a second run', async () => {
    const store = new Map<string, FeatureMatrix>();
    const cache: FeatureCache = {
      get: async (k) => store.get(k),
      set: async (k, m) => {
        store.set(k, m);
      },
    };
    const ids = data.labels.map((_, i) => `img${i}`);
    let loads = 0;
    const set = {
      count: data.labels.length,
      labels: data.labels,
      ids,
      load: async (idx: readonly number[]) => {
        loads++;
        return tf.tidy(() => tf.gather(data.x, Array.from(idx)) as tf.Tensor4D);
      },
    };
    const opts = { epochs: 2, chunkSize: 10, cache, cacheKey: 'tiny', seed: 1 };
    const a = await finetune(backbone, { train: set, classNames: CLASSES }, opts);
    const loadsFirst = loads;
    const b = await finetune(backbone, { train: set, classNames: CLASSES }, opts);
    expect(a.metrics.chunks).toEqual({ total: 6, cached: 0 });
    expect(b.metrics.chunks).toEqual({ total: 6, cached: 6 });
    expect(loads).toBe(loadsFirst); // no image was read again
    expect(b.metrics.valAccuracy).toBe(a.metrics.valAccuracy);
    a.model.dispose();
    b.model.dispose();
  });

  it('rejects bad input with typed errors before allocating', async () => {
    await expectThrowsNoLeak(
      () => finetune(backbone, { train: data, classNames: ['only'] }),
      InvalidArgumentError,
      /classNames/,
    );
    await expectThrowsNoLeak(
      () =>
        finetune(backbone, { train: { x: data.x, labels: data.labels.map(() => 1) }, classNames: CLASSES }),
      InvalidArgumentError,
      /at least two classes/,
    );
    await expectThrowsNoLeak(
      () => finetune(backbone, { train: { x: data.x, labels: [0, 1] }, classNames: CLASSES }),
      InvalidArgumentError,
      /60 class ids/,
    );
    const small = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
    await expectThrowsNoLeak(
      () => finetune(backbone, { train: { x: small, labels: [0, 1] }, classNames: CLASSES }),
      ShapeMismatchError,
      /input shape \[count, 12, 12, 3\]/,
    );
    small.dispose();
    const dense = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 2 })] });
    await expectThrowsNoLeak(
      () => finetune(dense, { train: data, classNames: CLASSES }),
      ShapeMismatchError,
      /image input/,
    );
    dense.dispose();
    await expectThrowsNoLeak(
      () => finetune(backbone, { train: data, classNames: CLASSES }, { unfreeze: 3 }),
      InvalidArgumentError,
      /at most the 2 stages/,
    );
    await expectThrowsNoLeak(
      () => finetune(backbone, { train: data, classNames: CLASSES }, { featureLayer: 'nope' }),
      InvalidArgumentError,
      /conv1, conv2, gap, out/,
    );
  });
});
