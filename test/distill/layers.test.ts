import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import {
  DistillationLoss,
  distillationLoss,
  InvalidArgumentError,
  ShapeMismatchError,
  softTargets,
} from '../../src/index.js';
import { LABEL_OFFSET } from '../../src/internal.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak, values } from '../helpers.js';
import { matrix } from './oracle.js';

function tinyModel(seed: number, inputs = 6, classes = 3): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 8,
        inputShape: [inputs],
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
      tfl.layers.dense({
        units: classes,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
}

describe('DistillationLoss', () => {
  it('exposes the functional form with its configuration', async () => {
    const loss = new DistillationLoss({ temperature: 3, alpha: 0.25, form: 'kl', reduction: 'sum' });
    expect([loss.temperature, loss.alpha, loss.form, loss.reduction, loss.teacherInput]).toEqual([
      3,
      0.25,
      'kl',
      'sum',
      'logits',
    ]);
    const z = tf.tensor2d(matrix(3, 4, 3));
    const v = tf.tensor2d(matrix(3, 4, 4));
    const y = tf.tensor1d([1, 2, 3], 'int32');
    const a = loss.compute(z, v, y);
    const b = distillationLoss(z, v, {
      temperature: 3,
      alpha: 0.25,
      form: 'kl',
      reduction: 'sum',
      hardLabels: y,
    });
    expectClose(await values(a), await values(b), 1e-6);
    await expectNoLeak(() => loss.compute(z, v, y));
    const wrong = tf.zeros([3, 5]);
    await expectThrowsNoLeak(() => loss.compute(z, wrong, y), ShapeMismatchError, /4 classes/);
    await expectThrowsNoLeak(() => loss.compute(z, v), InvalidArgumentError, /hardLabels/);
    tf.dispose([z, v, y, a, b, wrong]);
  });

  it('packs soft targets and labels into y_true = q + 2 onehot and unpacks them exactly', async () => {
    const loss = new DistillationLoss({ temperature: 4 });
    const v = tf.tensor2d(matrix(5, 3, 5));
    const q = softTargets(v, 4);
    const y = tf.tensor1d([0, 2, 1, 1, 0], 'int32');
    const packed = loss.pack(q, y);
    const pv = await values(packed);
    const qv = await values(q);
    expect(LABEL_OFFSET).toBe(2);
    pv.forEach((p, i) => {
      const isLabel = [0, 2, 1, 1, 0][Math.floor(i / 3)] === i % 3;
      expect(p).toBeCloseTo(qv[i] + (isLabel ? 2 : 0), 6);
    });
    const { softTargets: q2, oneHot } = loss.unpack(packed);
    expectClose(await values(q2), qv, 3e-7);
    expectClose(await values(oneHot), await values(tf.oneHot(y, 3)), 0);
    await expectNoLeak(() => loss.pack(q, y));
    const bad = tf.tensor1d([0, 1], 'int32');
    await expectThrowsNoLeak(() => loss.pack(q, bad), ShapeMismatchError, /\[5\]/);
    tf.dispose([v, q, y, packed, q2, oneHot, bad]);
  });

  it('as a layers loss gives the per-example losses of compute() on the unpacked targets, with its gradient', async () => {
    const loss = new DistillationLoss({
      temperature: 5,
      alpha: 0.8,
      form: 'cross-entropy',
      reduction: 'none',
    });
    const z = tf.tensor2d(matrix(4, 3, 6));
    const v = tf.tensor2d(matrix(4, 3, 7));
    const y = tf.tensor1d([2, 0, 1, 2], 'int32');
    const q = softTargets(v, 5);
    const packed = loss.pack(q, y);
    const viaLayers = loss.layersLoss(packed, z);
    const direct = distillationLoss(z, q, {
      temperature: 5,
      alpha: 0.8,
      hardLabels: y,
      teacherInput: 'soft-targets',
      reduction: 'none',
    });
    expectClose(await values(viaLayers), await values(direct), 1e-5, 1e-5);
    const g1 = tf.grad((zz: tf.Tensor) => tf.sum(loss.layersLoss(packed, zz)))(z);
    const g2 = tf.grad((zz: tf.Tensor) => tf.sum(loss.compute(zz, v, y)))(z);
    expectClose(await values(g1), await values(g2), 1e-5, 1e-4);
    await expectNoLeak(() => loss.layersLoss(packed, z));
    tf.dispose([z, v, y, q, packed, viaLayers, direct, g1, g2]);
  });

  it('trains a student with model.compile({loss}) and fit() on packed targets; accuracy reads the labels', async () => {
    const teacher = tinyModel(1);
    const student = tinyModel(11);
    const loss = new DistillationLoss({ temperature: 2, alpha: 0.9, form: 'kl' });
    const x = tf.tensor2d(matrix(64, 6, 9, 1));
    const teacherLogits = teacher.predict(x) as tf.Tensor2D;
    const y = tf.cast(tf.argMax(teacherLogits, 1), 'int32') as tf.Tensor1D;
    const yTrue = loss.pack(softTargets(teacherLogits, loss.temperature), y);
    student.compile({ optimizer: tf.train.adam(0.02), loss: loss.layersLoss, metrics: ['accuracy'] });
    const before = tf.memory().numTensors;
    const h = await student.fit(x, yTrue, { epochs: 15, batchSize: 16, shuffle: false, verbose: 0 });
    const losses = h.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.7);
    const acc = h.history.acc as number[];
    expect(acc[acc.length - 1]).toBeGreaterThan(0.7);
    // fit() leaves only its optimizer's slot variables behind (created on the first step).
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(2 * student.trainableWeights.length + 2);
    tf.dispose([x, teacherLogits, y, yTrue]);
    teacher.dispose();
    student.dispose();
  });

  it('trains a student in a custom loop with optimizer.minimize', async () => {
    const teacher = tinyModel(2);
    const student = tinyModel(21);
    const loss = new DistillationLoss({ temperature: 3, alpha: 1, form: 'kl' });
    const x = tf.tensor2d(matrix(32, 6, 13, 1));
    const v = teacher.predict(x) as tf.Tensor2D;
    const opt = tf.train.adam(0.02);
    const vars = student.trainableWeights.map((w) => w.read() as tf.Variable);
    const step = () =>
      opt.minimize(() => loss.compute(student.apply(x) as tf.Tensor, v) as tf.Scalar, true, vars);
    const first = step() as tf.Scalar;
    const l0 = (await first.data())[0];
    first.dispose();
    for (let i = 0; i < 25; i++) step()?.dispose();
    const last = step() as tf.Scalar;
    expect((await last.data())[0]).toBeLessThan(l0 * 0.5);
    tf.dispose([x, v, last]);
    opt.dispose();
    teacher.dispose();
    student.dispose();
  });
});
