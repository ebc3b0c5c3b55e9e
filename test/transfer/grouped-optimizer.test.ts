import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DisposedError, InvalidArgumentError } from '../../src/index.js';
import { GroupedOptimizer, LayerTransfer } from '../../src/transfer/index.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak } from '../helpers.js';
import { nested, toyData, weightValues } from './models.js';

const W1 = [1, -2, 3];
const W2 = [-1, 0.25, 2];
const T = [0.5, 0.5, 0.5];

/** Quadratic toy: L = 1/2 sum (w - t)^2 over both groups, so dL/dw = w - t. */
function quadratic(a: tf.Variable, b: tf.Variable): () => tf.Scalar {
  return () =>
    tf.tidy(() => {
      const t = tf.tensor1d(T);
      return tf.mul(
        0.5,
        tf.add(tf.sum(tf.square(tf.sub(a, t))), tf.sum(tf.square(tf.sub(b, t)))),
      ) as tf.Scalar;
    });
}

describe('GroupedOptimizer (discriminative learning rates)', () => {
  it('moves each group by its own rate: SGD matches the closed form (w_k - t) = (1 - eta)^k (w_0 - t)', async () => {
    const a = tf.variable(tf.tensor1d(W1));
    const b = tf.variable(tf.tensor1d(W2));
    const opt = new GroupedOptimizer(
      [
        { name: 'copied', variables: [a], learningRate: 0.01 },
        { name: 'new', variables: [b], learningRate: 0.1 },
      ],
      { optimizer: 'sgd' },
    );
    const loss0 = opt.step(quadratic(a, b));
    const expectedLoss = 0.5 * [...W1, ...W2].reduce((s, w) => s + (w - 0.5) ** 2, 0);
    expectClose(await loss0.data(), [expectedLoss], 1e-5);
    loss0.dispose();
    // After one step, the moves are -eta (w - t): their ratio is the ratio of rates (10), element by element.
    const da = (await a.data()).map((v, i) => v - W1[i]);
    const db = (await b.data()).map((v, i) => v - W2[i]);
    expectClose(
      da,
      W1.map((w) => -0.01 * (w - 0.5)),
      1e-6,
    );
    expectClose(
      db,
      W2.map((w) => -0.1 * (w - 0.5)),
      1e-6,
    );
    for (let k = 2; k <= 5; k++) tf.dispose(opt.step(quadratic(a, b)));
    expectClose(
      await a.data(),
      W1.map((w) => 0.5 + 0.99 ** 5 * (w - 0.5)),
      1e-5,
    );
    expectClose(
      await b.data(),
      W2.map((w) => 0.5 + 0.9 ** 5 * (w - 0.5)),
      1e-5,
    );
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('Adam: the first step moves every element by about its group rate', async () => {
    const a = tf.variable(tf.tensor1d(W1));
    const b = tf.variable(tf.tensor1d(W2));
    const opt = new GroupedOptimizer([
      { name: 'copied', variables: [a], learningRate: 0.001 },
      { name: 'new', variables: [b], learningRate: 0.01 },
    ]);
    tf.dispose(opt.step(quadratic(a, b)));
    const da = (await a.data()).map((v, i) => Math.abs(v - W1[i]));
    const db = (await b.data()).map((v, i) => Math.abs(v - W2[i]));
    expectClose(da, [0.001, 0.001, 0.001], 1e-5);
    expectClose(db, [0.01, 0.01, 0.01], 1e-4);
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('skips frozen variables and leaks nothing', async () => {
    const a = tf.variable(tf.tensor1d(W1));
    const b = tf.variable(tf.tensor1d(W2));
    a.trainable = false;
    await expectNoLeak(() => {
      const opt = new GroupedOptimizer([
        { name: 'copied', variables: [a], learningRate: 0.1 },
        { name: 'new', variables: [b], learningRate: 0.1 },
      ]);
      const l = opt.step(quadratic(a, b));
      opt.dispose();
      return l;
    });
    expect(Array.from(await a.data())).toEqual(W1);
    expect(Array.from(await b.data())).not.toEqual(W2);
    tf.dispose([a, b]);
  });

  it('rejects bad groups and use after dispose', async () => {
    const a = tf.variable(tf.tensor1d(W1));
    await expectThrowsNoLeak(() => new GroupedOptimizer([]), InvalidArgumentError, /groups/);
    await expectThrowsNoLeak(
      () => new GroupedOptimizer([{ name: 'g', variables: [a], learningRate: 0 }]),
      InvalidArgumentError,
      /groups\[0\]\.learningRate.*Received: 0/,
    );
    await expectThrowsNoLeak(
      () =>
        new GroupedOptimizer([
          { name: 'g', variables: [a], learningRate: 1 },
          { name: 'h', variables: [a], learningRate: 1 },
        ]),
      InvalidArgumentError,
      /no other group/,
    );
    await expectThrowsNoLeak(
      () =>
        new GroupedOptimizer([{ name: 'g', variables: [a], learningRate: 1 }], {
          optimizer: 'lbfgs' as never,
        }),
      InvalidArgumentError,
      /one of/,
    );
    const opt = new GroupedOptimizer([{ name: 'g', variables: [a], learningRate: 1 }]);
    opt.dispose();
    await expectThrowsNoLeak(() => opt.step(() => tf.sum(a) as tf.Scalar), DisposedError);
    a.dispose();
  });

  it('LayerTransfer.fineTune: one SGD step moves copied layers by copiedLearningRate / learningRate of the plain step', async () => {
    const base = nested();
    const data = toyData(8);
    const deltas = async (copiedLr: number) => {
      const t = new LayerTransfer(base, { copy: 2, head: { kind: 'replace', numClasses: 3 }, seed: 5 });
      const layer = t.model.getLayer('d2');
      const w0 = await weightValues(layer);
      const h0 = await weightValues(t.model.getLayer('head'));
      await t.fineTune(data, {
        batchSize: 8,
        optimizer: 'sgd',
        learningRate: 0.1,
        copiedLearningRate: copiedLr,
      });
      const w1 = await weightValues(layer);
      const h1 = await weightValues(t.model.getLayer('head'));
      t.dispose();
      return { copied: w1.map((v, i) => v - w0[i]), head: h1.map((v, i) => v - h0[i]) };
    };
    const plain = await deltas(0.1);
    const disc = await deltas(0.01);
    // Same start, same batch, same gradients: the copied layer moves 10x less, the new head the same.
    expect(plain.copied.some((v) => Math.abs(v) > 1e-4)).toBe(true);
    expectClose(
      disc.copied,
      plain.copied.map((v) => v / 10),
      1e-6,
      1e-3,
    );
    expectClose(disc.head, plain.head, 1e-6, 1e-4);
    data.x.dispose();
    base.dispose();
  });
});
