import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  evaluateClassifier,
  hintonMlp,
  InvalidArgumentError,
  ShapeMismatchError,
  trainClassifier,
  zeilerFergusCnn,
} from '../../src/index.js';
import { expectNoLeak, expectThrowsNoLeak } from '../helpers.js';

async function weightsOf(model: { getWeights(): tf.Tensor[] }): Promise<number[][]> {
  return Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
}

describe('zeilerFergusCnn', () => {
  it('has named conv-relu-pool blocks and outputs logits of the right shape', () => {
    const m = zeilerFergusCnn({ seed: 1 });
    expect(m.layers.map((l) => l.name)).toEqual([
      'conv1',
      'pool1',
      'conv2',
      'pool2',
      'flatten',
      'fc1',
      'logits',
    ]);
    expect(m.getLayer('conv1').outputShape).toEqual([null, 24, 24, 16]);
    expect(m.getLayer('conv2').outputShape).toEqual([null, 10, 10, 32]);
    expect(m.getLayer('pool2').outputShape).toEqual([null, 5, 5, 32]);
    expect(m.getLayer('logits').outputShape).toEqual([null, 10]);
    expect((m.getLayer('logits').getConfig() as { activation: string }).activation).toBe('linear');
    const d = zeilerFergusCnn({
      filters: [8, 8, 8],
      hidden: [32, 16],
      dropout: 0.5,
      numClasses: 5,
      inputShape: [40, 40, 3],
    });
    expect(d.layers.map((l) => l.name)).toEqual([
      'conv1',
      'pool1',
      'conv2',
      'pool2',
      'conv3',
      'pool3',
      'flatten',
      'fc1',
      'drop1',
      'fc2',
      'drop2',
      'logits',
    ]);
    tf.tidy(() => {
      expect((d.predict(tf.zeros([2, 40, 40, 3])) as tf.Tensor).shape).toEqual([2, 5]);
    });
    m.dispose();
    d.dispose();
  });

  it('initialises reproducibly from its seed', async () => {
    const a = zeilerFergusCnn({ seed: 3 });
    const b = zeilerFergusCnn({ seed: 3 });
    const c = zeilerFergusCnn({ seed: 4 });
    const [wa, wb, wc] = await Promise.all([weightsOf(a), weightsOf(b), weightsOf(c)]);
    expect(wa).toEqual(wb);
    expect(wa[0]).not.toEqual(wc[0]);
    // Glorot-uniform bound sqrt(6 / (fanIn + fanOut)) for conv1: fanIn 25, fanOut 25*16.
    const bound = Math.sqrt(6 / (25 + 400));
    expect(Math.max(...wa[0].map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...wa[0].map(Math.abs))).toBeGreaterThan(0.9 * bound);
    for (const m of [a, b, c]) m.dispose();
  });

  it('rejects bad options naming the field', () => {
    expect(() => zeilerFergusCnn({ inputShape: [8, 8, 1] })).toThrow(/options.inputShape/);
    expect(() => zeilerFergusCnn({ filters: [8], kernelSizes: [3, 3] })).toThrow(/options.kernelSizes/);
    expect(() => zeilerFergusCnn({ numClasses: 1 })).toThrow(InvalidArgumentError);
    expect(() => zeilerFergusCnn({ dropout: 1 })).toThrow(/options.dropout/);
  });
});

describe('hintonMlp', () => {
  it('builds the paper presets with named layers', () => {
    const t = hintonMlp({ preset: 'teacher', seed: 1 });
    expect(t.layers.map((l) => l.name)).toEqual([
      'flatten',
      'input_drop',
      'fc1',
      'drop1',
      'fc2',
      'drop2',
      'logits',
    ]);
    expect(t.countParams()).toBe(784 * 1200 + 1200 + 1200 * 1200 + 1200 + 1200 * 10 + 10);
    const s = hintonMlp({ preset: 'student' });
    expect(s.layers.map((l) => l.name)).toEqual(['flatten', 'fc1', 'fc2', 'logits']);
    expect(s.getLayer('fc1').outputShape).toEqual([null, 800]);
    const small = hintonMlp({ preset: 'small', inputShape: [784] });
    expect(small.layers.map((l) => l.name)).toEqual(['fc1', 'fc2', 'logits']);
    expect(small.getLayer('fc2').outputShape).toEqual([null, 30]);
    for (const m of [t, s, small]) m.dispose();
    expect(() => hintonMlp({ preset: 'huge' as 'small' })).toThrow(/options.preset/);
    expect(() => hintonMlp({ hidden: [0] })).toThrow(/options.hidden\[0\]/);
  });
});

/** Two linearly separable blobs in 4-d. */
function blobs(n: number, seed: number) {
  return tf.tidy(() => {
    const y = tf.tensor1d(
      Array.from({ length: n }, (_, i) => i % 2),
      'int32',
    );
    const centre = tf.mul(tf.sub(tf.cast(tf.expandDims(y, 1), 'float32'), 0.5), tf.tensor2d([[4, -4, 2, 0]]));
    const x = tf.add(centre, tf.randomNormal([n, 4], 0, 1, 'float32', seed));
    return { x, y };
  });
}

describe('trainClassifier', () => {
  it('learns separable data, reports progress, reproduces with a seed, and leaks nothing', async () => {
    const { x, y } = blobs(64, 1);
    const run = async () => {
      const m = hintonMlp({ hidden: [8], inputShape: [4], numClasses: 2, seed: 2 });
      const events: string[] = [];
      const h = await trainClassifier(m, x, y, {
        epochs: 3,
        batchSize: 16,
        learningRate: 0.05,
        seed: 5,
        validation: { x, y },
        onProgress: (e) => events.push(`${e.phase}:${e.done}/${e.total}`),
      });
      const w = await weightsOf(m);
      m.dispose();
      return { h, events, w };
    };
    const a = await run();
    const b = await run();
    expect(a.events.slice(0, 2)).toEqual(['train:1/12', 'train:2/12']);
    expect(a.events).toContain('epoch:3/3');
    expect(a.h.epochs).toHaveLength(3);
    expect(a.h.epochs[2].loss).toBeLessThan(a.h.epochs[0].loss);
    expect(a.h.epochs[2].valAcc).toBeGreaterThan(0.95);
    expect(a.w).toEqual(b.w);
    expect(a.h.epochs.map((e) => e.loss)).toEqual(b.h.epochs.map((e) => e.loss));
    const m = hintonMlp({ hidden: [8], inputShape: [4], numClasses: 2, seed: 2 });
    await expectNoLeak(() => trainClassifier(m, x, y, { epochs: 1, batchSize: 32 }).then(() => undefined));
    m.dispose();
    tf.dispose([x, y]);
  });

  it('keeps frozen layers unchanged and accepts one-hot targets', async () => {
    const { x, y } = blobs(32, 2);
    const m = hintonMlp({ hidden: [8], inputShape: [4], numClasses: 2, seed: 2 });
    m.getLayer('fc1').trainable = false;
    const before = [await weightsOf(m.getLayer('fc1')), await weightsOf(m.getLayer('logits'))];
    const oneHot = tf.cast(tf.oneHot(y, 2), 'float32') as tf.Tensor2D;
    await trainClassifier(m, x, oneHot, { epochs: 1, batchSize: 8, learningRate: 0.1 });
    const after = [await weightsOf(m.getLayer('fc1')), await weightsOf(m.getLayer('logits'))];
    expect(after[0]).toEqual(before[0]);
    expect(after[1][0]).not.toEqual(before[1][0]);
    const ev = await evaluateClassifier(m, { x, labels: y }, { batchSize: 5 });
    expect(ev.count).toBe(32);
    // The evaluation's accuracy agrees with a plain loop over the model's predictions.
    const logits = (await (m.predict(x) as tf.Tensor).array()) as number[][];
    const labels = await y.array();
    const manual = logits.filter((r, i) => (r[1] > r[0] ? 1 : 0) === labels[i]).length / 32;
    expect(ev.accuracy).toBeCloseTo(manual, 6);
    m.dispose();
    tf.dispose([x, y, oneHot]);
  });

  it('trains a small CNN on a few images (cpu, or wasm with training kernels)', async () => {
    if (tf.getBackend() !== 'cpu' && tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined)
      return;
    const m = zeilerFergusCnn({
      inputShape: [12, 12, 1],
      filters: [4],
      kernelSizes: [3],
      hidden: [8],
      numClasses: 2,
    });
    const x = tf.tidy(() => tf.concat([tf.zeros([4, 12, 12, 1]), tf.ones([4, 12, 12, 1])]));
    const y = tf.tensor1d([0, 0, 0, 0, 1, 1, 1, 1], 'int32');
    const h = await trainClassifier(m, x, y, { epochs: 8, batchSize: 8, learningRate: 0.05 });
    expect(h.epochs[7].loss).toBeLessThan(h.epochs[0].loss);
    m.dispose();
    tf.dispose([x, y]);
  });

  it('rejects bad arguments before allocating', async () => {
    const m = hintonMlp({ hidden: [4], inputShape: [4], numClasses: 2 });
    const x = tf.zeros([6, 4]);
    const yFloat = tf.zeros([6]);
    const yShort = tf.zeros([5], 'int32');
    const yInt = tf.zeros([6], 'int32');
    await expectThrowsNoLeak(
      () => trainClassifier(m, x, yFloat as tf.Tensor1D),
      InvalidArgumentError,
      /int32/,
    );
    await expectThrowsNoLeak(
      () => trainClassifier(m, x, yShort as tf.Tensor1D),
      ShapeMismatchError,
      /6 targets/,
    );
    await expectThrowsNoLeak(
      () => trainClassifier(m, x, yInt as tf.Tensor1D, { epochs: 0 }),
      InvalidArgumentError,
    );
    const xWide = tf.zeros([6, 5]);
    await expectThrowsNoLeak(
      () => trainClassifier(m, xWide, yInt as tf.Tensor1D),
      ShapeMismatchError,
      /\[\*, 4\].*\[6, 5\]/,
    );
    await expectThrowsNoLeak(
      () => evaluateClassifier(m, { x: xWide, labels: yInt as tf.Tensor1D }),
      ShapeMismatchError,
    );
    xWide.dispose();
    await expectThrowsNoLeak(
      () => trainClassifier({} as never, x, yShort as tf.Tensor1D),
      InvalidArgumentError,
      /LayersModel/,
    );
    m.dispose();
    tf.dispose([x, yFloat, yShort, yInt]);
  });
});
