import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { type LoopStepMetrics, runTrainingLoop } from '../../src/core/train-loop.js';
import { hintonMlp, trainClassifier } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

/** Two Gaussian blobs in 4-d. */
function blobs(n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const rng = new Rng(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    for (let j = 0; j < 4; j++) xs.push(rng.normal() + (c === 0 ? -1.5 : 1.5));
    ys.push(c);
  }
  return { x: tf.tensor2d(xs, [n, 4]), y: tf.tensor1d(ys, 'int32') };
}

/** The loop trainClassifier ran before the core loop (one read-back per step), as a plain reference. */
async function referenceTrain(
  model: ReturnType<typeof hintonMlp>,
  x: tf.Tensor,
  y: tf.Tensor1D,
  epochs: number,
  batchSize: number,
  lr: number,
  seed: number,
): Promise<{ losses: number[]; steps: number[] }> {
  const optimizer = tf.train.adam(lr);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const rng = new Rng(seed);
  const n = x.shape[0];
  const losses: number[] = [];
  const steps: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const order = rng.permutation(n);
    let sum = 0;
    for (let s = 0; s * batchSize < n; s++) {
      const idx = order.slice(s * batchSize, (s + 1) * batchSize);
      const lossT = tf.tidy(() => {
        const i = tf.tensor1d(idx, 'int32');
        const xb = tf.gather(x, i);
        const yb = tf.cast(tf.oneHot(tf.gather(y, i) as tf.Tensor1D, 2), 'float32');
        return optimizer.minimize(
          () =>
            tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar,
          true,
          vars,
        ) as tf.Scalar;
      });
      const l = (await lossT.data())[0];
      lossT.dispose();
      steps.push(l);
      sum += l * idx.length;
    }
    losses.push(sum / n);
  }
  optimizer.dispose();
  return { losses, steps };
}

async function weights(model: ReturnType<typeof hintonMlp>): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

describe('runTrainingLoop', () => {
  it('trainClassifier through the core loop gives the reference loop losses and weights (any readEvery)', async () => {
    const { x, y } = blobs(40, 1);
    const ref = hintonMlp({ hidden: [6], inputShape: [4], numClasses: 2, seed: 3 });
    const expected = await referenceTrain(ref, x, y, 2, 16, 0.05, 7);
    const wRef = await weights(ref);
    ref.dispose();
    for (const readEvery of [1, 2, 10]) {
      const m = hintonMlp({ hidden: [6], inputShape: [4], numClasses: 2, seed: 3 });
      const stepLosses: number[] = [];
      const done: number[] = [];
      const h = await trainClassifier(m, x, y, {
        epochs: 2,
        batchSize: 16,
        learningRate: 0.05,
        seed: 7,
        readEvery,
        onProgress: (e) => {
          if (e.phase === 'train') {
            stepLosses.push(e.metrics?.loss as number);
            done.push(e.done);
          }
        },
      });
      expect(done).toEqual([1, 2, 3, 4, 5, 6]);
      expect(stepLosses).toEqual(expected.steps);
      expect(h.epochs.map((e) => e.loss)).toEqual(expected.losses);
      const w = await weights(m);
      for (let k = 0; k < w.length; k++) expect(Array.from(w[k])).toEqual(Array.from(wRef[k]));
      m.dispose();
    }
    tf.dispose([x, y]);
  });

  it('visits each example once per epoch in a seeded order, reads back every N steps, and frees the scalars', async () => {
    const seen: number[][] = [];
    const metrics: LoopStepMetrics[] = [];
    const live: number[] = [];
    const run = () =>
      runTrainingLoop({
        count: 10,
        batchSize: 4,
        epochs: 2,
        seed: 3,
        readEvery: 2,
        step: ({ indices }) => {
          seen.push(Array.from(indices));
          live.push(tf.memory().numTensors);
          return { loss: tf.scalar(indices[0]), correct: tf.scalar(1) };
        },
        onStep: (m) => metrics.push(m),
      });
    const r = await run();
    expect(r.steps).toBe(6);
    expect(
      seen
        .slice(0, 3)
        .flat()
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(
      seen
        .slice(3)
        .flat()
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen.slice(0, 3)).not.toEqual(seen.slice(3));
    // At most two steps' scalars are held before a read-back (readEvery 2; 3 steps per epoch).
    expect(Math.max(...live) - Math.min(...live)).toBeLessThanOrEqual(4);
    expect(metrics.map((m) => m.done)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(metrics.map((m) => m.loss)).toEqual(seen.map((s) => s[0]));
    expect(metrics[2].size).toBe(2);
    // Loss weighted by batch size; accuracy = correct / n.
    const e1 = seen.slice(0, 3);
    expect(r.epochs[0].loss).toBeCloseTo(e1.reduce((a, s) => a + s[0] * s.length, 0) / 10, 6);
    expect(r.epochs[0].acc).toBeCloseTo(3 / 10, 6);
    const again: number[][] = [];
    await runTrainingLoop({
      count: 10,
      batchSize: 4,
      epochs: 2,
      seed: 3,
      step: ({ indices }) => {
        again.push(Array.from(indices));
        return null;
      },
    });
    expect(again).toEqual(seen);
    await expectNoLeak(() => run().then(() => undefined));
  });

  it('stops early on a value that stops improving and restores the best snapshot; frees scalars on a throw', async () => {
    const values = [5, 3, 4, 4, 4, 1];
    const w = tf.variable(tf.scalar(0));
    let restored: number | undefined;
    const r = await runTrainingLoop({
      count: 2,
      batchSize: 2,
      epochs: 6,
      seed: 0,
      lossMean: 'steps',
      step: ({ epoch }) => {
        w.assign(tf.scalar(epoch));
        return { loss: tf.scalar(values[epoch - 1]) };
      },
      earlyStopping: {
        value: (rec) => rec.loss,
        patience: 2,
        minDelta: 0,
        snapshot: () => [tf.clone(w)],
        restore: (s) => {
          restored = s[0].dataSync()[0];
        },
      },
    });
    expect(r.epochs.map((e) => e.loss)).toEqual([5, 3, 4, 4, 4]);
    expect(r.stoppedEarly).toBe(true);
    expect(r.bestEpoch).toBe(2);
    expect(restored).toBe(2);
    w.dispose();
    const before = tf.memory().numTensors;
    await expect(
      runTrainingLoop({
        count: 8,
        batchSize: 2,
        epochs: 1,
        seed: 0,
        readEvery: 10,
        step: ({ step }) => {
          if (step === 2) throw new Error('boom');
          return { loss: tf.scalar(1) };
        },
      }),
    ).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
  });
});
