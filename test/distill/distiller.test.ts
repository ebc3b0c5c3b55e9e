import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import {
  DisposedError,
  Distiller,
  distillationLoss,
  InvalidArgumentError,
  type ProgressEvent,
  predictSoftTargets,
  ShapeMismatchError,
  softTargets,
} from '../../src/index.js';
import { expectClose, expectNoLeak, expectThrowsNoLeak, values } from '../helpers.js';
import { matrix } from './oracle.js';

const K = 4;
const D = 6;

function mlp(seed: number, hidden = 12, classes = K, softmax = false): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: hidden,
        inputShape: [D],
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
      tfl.layers.dense({
        units: classes,
        activation: softmax ? 'softmax' : 'linear',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
}

/** Mean KL(teacher || student) at T on x. */
async function gap(
  teacher: tfl.LayersModel,
  student: tfl.LayersModel,
  x: tf.Tensor,
  t: number,
): Promise<number> {
  const l = tf.tidy(() =>
    distillationLoss(student.predict(x) as tf.Tensor, teacher.predict(x) as tf.Tensor, {
      temperature: t,
      alpha: 1,
      form: 'kl',
    }),
  );
  return (await values(l))[0] / (t * t);
}

describe('Distiller', () => {
  it('runs the teacher once, caches its soft targets, and moves the student towards it', async () => {
    const teacher = mlp(1);
    const student = mlp(7, 6);
    const x = tf.tensor2d(matrix(96, D, 3, 2));
    const y = tf.tensor1d(
      Array.from({ length: 96 }, (_, i) => i % K),
      'int32',
    );
    const d = new Distiller(student, teacher, {
      temperature: 3,
      alpha: 0.9,
      learningRate: 0.02,
      teacherBatchSize: 32,
    });
    const g0 = await gap(teacher, student, x, 3);
    const events: ProgressEvent[] = [];
    const h = await d.fit(x, { labels: y, epochs: 4, batchSize: 16, onProgress: (e) => events.push(e) });
    expect(h.epochs).toHaveLength(4);
    expect(h.teacherForwardPasses).toBe(3); // ceil(96 / 32), once for all 4 epochs
    const h2 = await d.fit(x, { labels: y, epochs: 2, batchSize: 16 });
    expect(h2.teacherForwardPasses).toBe(3); // cached across fit calls on the same tensor
    expect(await gap(teacher, student, x, 3)).toBeLessThan(g0 * 0.6);
    expect(h.epochs[3].loss).toBeLessThan(h.epochs[0].loss);
    expect(events.some((e) => e.phase === 'teacher')).toBe(true);
    const train = events.filter((e) => e.phase === 'train');
    expect(train[train.length - 1]).toMatchObject({ done: 24, total: 24 });
    // The cache holds the teacher's soft targets at T.
    const cached = await d.softTargetsFor(x);
    const direct = softTargets(teacher.predict(x) as tf.Tensor2D, 3);
    expectClose(await values(cached), await values(direct), 1e-6);
    tf.dispose([cached, direct]);
    d.dispose();
    tf.dispose([x, y]);
    teacher.dispose();
    student.dispose();
  });

  it('re-runs the teacher on every batch in per-batch mode, and averages an ensemble', async () => {
    const t1 = mlp(1);
    const t2 = mlp(3);
    const student = mlp(5);
    const x = tf.tensor2d(matrix(40, D, 4, 2));
    const d = new Distiller(student, [t1, t2], { temperature: 2, alpha: 1, teacherOutputs: 'per-batch' });
    const h = await d.fit(x, { epochs: 2, batchSize: 10 });
    expect(h.teacherForwardPasses).toBe(2 * 4 * 2); // members x batches x epochs
    d.dispose();
    const e = new Distiller(student, [t1, t2], { temperature: 2, alpha: 1 });
    const q = await e.softTargetsFor(x);
    const exp = await predictSoftTargets([t1, t2], x, 2);
    expectClose(await values(q), await values(exp), 1e-6);
    tf.dispose([q, exp, x]);
    e.dispose();
    for (const m of [t1, t2, student]) m.dispose();
  });

  it('stops early on the validation set and restores the best weights', async () => {
    const teacher = mlp(1);
    const student = mlp(9);
    const x = tf.tensor2d(matrix(64, D, 6, 2));
    const y = tf.cast(tf.argMax(teacher.predict(x) as tf.Tensor, 1), 'int32') as tf.Tensor1D;
    const xv = tf.tensor2d(matrix(32, D, 8, 2));
    const yv = tf.tensor1d(
      Array.from({ length: 32 }, (_, i) => i % K),
      'int32',
    ); // labels unrelated to the inputs: validation stops improving soon
    const d = new Distiller(student, teacher, { temperature: 2, alpha: 0.5, learningRate: 0.05 });
    const h = await d.fit(x, {
      labels: y,
      epochs: 30,
      batchSize: 16,
      validation: { x: xv, labels: yv },
      earlyStopping: { patience: 2, monitor: 'loss' },
    });
    expect(h.stoppedEarly).toBe(true);
    expect(h.epochs.length).toBeLessThan(30);
    const bestLoss = Math.min(...h.epochs.map((e) => e.validation?.loss ?? Infinity));
    expect(h.epochs[h.bestEpoch - 1].validation?.loss).toBe(bestLoss);
    const now = await d.evaluate({ x: xv, labels: yv });
    expect(now.loss).toBeCloseTo(bestLoss, 4);
    d.dispose();
    tf.dispose([x, y, xv, yv]);
    teacher.dispose();
    student.dispose();
  });

  it('finds the classes absent from the transfer set and corrects their bias (given or fitted)', async () => {
    const teacher = mlp(1);
    const student = mlp(2);
    const x = tf.tensor2d(matrix(48, D, 10, 2));
    const y = tf.tensor1d(
      Array.from({ length: 48 }, (_, i) => i % 3),
      'int32',
    ); // no class 3
    const d = new Distiller(student, teacher, { temperature: 2, alpha: 0.5 });
    const h = await d.fit(x, { labels: y, epochs: 1, batchSize: 16 });
    expect(h.absentClasses).toEqual([3]);
    const probe = tf.tensor2d(matrix(2, D, 11));
    const before = await values(tf.tidy(() => student.predict(probe) as tf.Tensor));
    const r = await d.correctBias({ shift: 3.5 });
    expect(r).toEqual({ classes: [3], shift: 3.5 });
    const after = await values(tf.tidy(() => student.predict(probe) as tf.Tensor));
    expectClose(
      after,
      before.map((v, i) => v + (i % K === 3 ? 3.5 : 0)),
      1e-5,
    );
    const yv = tf.tensor1d(
      Array.from({ length: 48 }, (_, i) => i % K),
      'int32',
    );
    const fitted = await d.correctBias({ validation: { x, labels: yv } });
    expect(fitted.fit?.after.loss).toBeLessThanOrEqual(fitted.fit?.before.loss ?? 0);
    await expectThrowsNoLeak(() => d.correctBias({}), InvalidArgumentError, /validation/);
    d.dispose();
    tf.dispose([x, y, yv, probe]);
    teacher.dispose();
    student.dispose();
  });

  it('leaves no tensors behind: a second fit adds none, dispose frees the cache and its optimizer', async () => {
    const teacher = mlp(1);
    const student = mlp(3);
    const x = tf.tensor2d(matrix(20, D, 12, 2));
    const y = tf.tensor1d(
      Array.from({ length: 20 }, (_, i) => i % K),
      'int32',
    );
    const start = tf.memory().numTensors;
    const d = new Distiller(student, teacher, { temperature: 2 });
    await expectNoLeak(() => d.fit(x, { labels: y, epochs: 1, batchSize: 8, validation: { x, labels: y } }));
    await expectNoLeak(() => d.evaluate({ x, labels: y }));
    d.dispose();
    expect(tf.memory().numTensors).toBe(start);
    await expectThrowsNoLeak(
      () => d.fit(x, { labels: y }),
      DisposedError,
      /Distiller.fit\(\).*after `dispose\(\)`/,
    );
    tf.dispose([x, y]);
    teacher.dispose();
    student.dispose();
  });

  it('rejects bad set-ups with clear errors before training', async () => {
    const teacher = mlp(1);
    const student = mlp(2);
    const x = tf.tensor2d(matrix(8, D, 13));
    const y = tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 9], 'int32');
    const yOk = tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32');
    const five = mlp(3, 12, 5);
    const soft = mlp(4, 12, K, true);
    expect(() => new Distiller(student, teacher, { temperature: 0 })).toThrow(/temperature.*> 0/);
    expect(() => new Distiller(student, teacher, { temperature: 2, alpha: 2 })).toThrow(/alpha.*\[0, 1\]/);
    expect(() => new Distiller(student, five, { temperature: 2 })).toThrow(ShapeMismatchError);
    expect(() => new Distiller(student, five, { temperature: 2 })).toThrow(/4 classes.*5 classes/);
    expect(() => new Distiller(soft, teacher, { temperature: 2 })).toThrow(/logits.*softmax/);
    expect(() => new Distiller(student, null, { temperature: 2, alpha: 0.5 })).toThrow(/alpha: 0/);
    expect(() => new Distiller(student, 42 as never, { temperature: 2 })).toThrow(InvalidArgumentError);
    const d = new Distiller(student, teacher, { temperature: 2 });
    await expectThrowsNoLeak(() => d.fit(x, {}), InvalidArgumentError, /labels.*alpha < 1/);
    await expectThrowsNoLeak(() => d.fit(x, { labels: yOk, jitter: 2 }), ShapeMismatchError, /NHWC/);
    await expectThrowsNoLeak(
      () => d.fit(x, { labels: yOk, earlyStopping: {} }),
      InvalidArgumentError,
      /validation data when earlyStopping/,
    );
    const before = await values(tf.tidy(() => student.predict(x) as tf.Tensor));
    await expect(d.fit(x, { labels: y })).rejects.toThrow(
      /`options.labels\[7\]`.*class index in \[0, 3\].*Received: 9/,
    );
    expectClose(await values(tf.tidy(() => student.predict(x) as tf.Tensor)), before, 0); // not trained
    d.dispose();
    // Precomputed teacher probabilities that do not sum to 1.
    const probs = tf.fill([8, K], 0.2) as tf.Tensor2D;
    const p = new Distiller(
      student,
      { outputs: probs, outputKind: 'probabilities' },
      { temperature: 2, alpha: 1 },
    );
    await expectThrowsNoLeak(() => p.fit(x), InvalidArgumentError, /row 0 sums to 0\.8/);
    p.dispose();
    tf.dispose([x, y, yOk, probs]);
    for (const m of [teacher, student, five, soft]) m.dispose();
  });

  it('trains from scratch with alpha = 0 and no teacher, and jitters NHWC inputs', async () => {
    const student = tfl.sequential({
      layers: [
        tfl.layers.flatten({ inputShape: [5, 5, 1] }),
        tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      ],
    });
    // Class c: an image of brightness (c + 1) / 3 plus noise; a linear model can tell them apart under jitter.
    const noise = matrix(24, 25, 14, 0.1);
    const x = tf.tensor4d(
      noise.flatMap((r, i) => r.map((v) => v + ((i % 3) + 1) / 3)),
      [24, 5, 5, 1],
    );
    const y = tf.tensor1d(
      Array.from({ length: 24 }, (_, i) => i % 3),
      'int32',
    );
    const d = new Distiller(student, null, { temperature: 1, alpha: 0, learningRate: 0.05 });
    const h = await d.fit(x, { labels: y, epochs: 6, batchSize: 8, jitter: 1, seed: 3 });
    expect(h.teacherForwardPasses).toBe(0);
    expect(h.epochs[5].loss).toBeLessThan(h.epochs[0].loss);
    d.dispose();
    tf.dispose([x, y]);
    student.dispose();
  });
});
