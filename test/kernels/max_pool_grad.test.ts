import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import {
  registerTrainingKernels,
  TRAINING_KERNEL_NAMES,
  trainingKernelsRegistered,
} from '../../src/kernels/index.js';
import { setMaxPoolKeyCompare } from '../../src/kernels/max_pool_grad.js';
import { trainClassifier, zeilerFergusCnn } from '../../src/zoo/index.js';
import { onOriginal, useAllTrainingKernels, withSwitch } from './original.js';

const b = useAllTrainingKernels();

interface Case {
  shape: [number, number, number, number];
  filterSize: [number, number];
  strides: [number, number];
  pad: 'valid' | 'same';
}

/** Values from a tiny set, so windows tie, are all zero (after-ReLU) or all negative. */
function tieValues(rng: Rng, size: number, allNonPositive = false): Float32Array {
  const pool = allNonPositive ? [0, -1, -0.5, 0] : [0, 0, 1, 0.5, 1, -1, 2 ** -126, 2 ** -130];
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) v[i] = pool[rng.int(pool.length)];
  return v;
}

function grads(c: Case, xv: Float32Array, dyv: Float32Array): Float32Array {
  return tf.tidy(() => {
    const x: tf.Tensor4D = tf.tensor4d(xv, c.shape);
    const y = tf.maxPool(x, c.filterSize, c.strides, c.pad);
    const dy = tf.tensor4d(dyv, y.shape as [number, number, number, number]);
    const dx = tf
      .engine()
      .runKernel(
        'MaxPoolGrad',
        { dy, input: x, output: y },
        { filterSize: c.filterSize, strides: c.strides, pad: c.pad },
      ) as tf.Tensor;
    return dx.dataSync() as Float32Array;
  });
}

function outSize(c: Case): number {
  return tf.tidy(() => tf.maxPool(tf.zeros(c.shape) as tf.Tensor4D, c.filterSize, c.strides, c.pad).size);
}

/** Ours and the backend's original kernel on the same inputs: must agree bit for bit (NaN = NaN). */
function expectSameAsOriginal(c: Case, xv: Float32Array, dyv: Float32Array): void {
  const ours = grads(c, xv, dyv);
  const orig = onOriginal(b, () => grads(c, xv, dyv));
  expect(ours.length).toBe(orig.length);
  const bad: number[] = [];
  for (let i = 0; i < ours.length; i++) if (!Object.is(ours[i], orig[i])) bad.push(i);
  expect(bad.slice(0, 5).map((i) => [i, ours[i], orig[i]])).toEqual([]);
}

const CASES: Case[] = [
  { shape: [3, 6, 6, 4], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
  { shape: [2, 7, 5, 3], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
  { shape: [2, 7, 5, 3], filterSize: [2, 2], strides: [2, 2], pad: 'same' },
  { shape: [2, 8, 9, 2], filterSize: [3, 3], strides: [3, 3], pad: 'same' },
  { shape: [1, 6, 9, 5], filterSize: [2, 3], strides: [2, 4], pad: 'valid' },
  { shape: [2, 4, 4, 3], filterSize: [1, 1], strides: [1, 1], pad: 'valid' },
  // the zoo CNN's pools (batch cut to 4): [*, 24, 24, 16] and [*, 10, 10, 32]
  { shape: [4, 24, 24, 16], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
  { shape: [4, 10, 10, 32], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
  // overlapping windows: handed to the original kernel
  { shape: [2, 7, 7, 3], filterSize: [3, 3], strides: [2, 2], pad: 'valid' },
];

describe(`MaxPoolGrad training kernel on ${b}`, () => {
  it('is registered with the others', () => {
    expect(trainingKernelsRegistered(b)).toContain('MaxPoolGrad');
  });

  for (const keyLoop of [true, false]) {
    it(`equals the backend's original bit for bit: ties, all-zero and all-negative windows, padding, NaN and +-Inf in x (${keyLoop ? 'branch-free' : 'branching'} loop)`, () => {
      withSwitch(setMaxPoolKeyCompare, keyLoop, () => {
        const rng = new Rng(41);
        const special = [
          Number.NaN,
          Number.POSITIVE_INFINITY,
          Number.NEGATIVE_INFINITY,
          -0,
          0,
          1,
          2 ** -126,
          -(2 ** -126),
          3e38,
        ];
        for (const c of CASES) {
          const size = c.shape.reduce((a, d) => a * d, 1);
          const dySize = outSize(c);
          const dyv = new Float32Array(dySize);
          for (let i = 0; i < dySize; i++) dyv[i] = rng.normal();
          expectSameAsOriginal(c, tieValues(rng, size), dyv);
          expectSameAsOriginal(c, tieValues(rng, size, true), dyv);
          const normal = new Float32Array(size);
          for (let i = 0; i < size; i++) normal[i] = rng.normal();
          expectSameAsOriginal(c, normal, dyv);
          expectSameAsOriginal(
            c,
            Float32Array.from({ length: size }, () => special[rng.int(special.length)]),
            dyv,
          );
        }
      });
    });
  }

  it('routes a non-finite dy like the original (wasm: NaN times the 0/1 mask; cpu: to the arg-max only)', () => {
    const rng = new Rng(42);
    const c = CASES[0];
    const size = c.shape.reduce((a, d) => a * d, 1);
    const dyv = new Float32Array(outSize(c));
    for (let i = 0; i < dyv.length; i++) dyv[i] = rng.normal();
    dyv[0] = Number.NaN;
    dyv[5] = Number.POSITIVE_INFINITY;
    dyv[9] = Number.NEGATIVE_INFINITY;
    expectSameAsOriginal(c, tieValues(rng, size), dyv);
  });

  it('routes each window to its maximum (plain-loop oracle, distinct values)', () => {
    // x = [1, 4, 4, 1]: windows 2x2; the maximum of each is placed at a known spot.
    const xv = new Float32Array([1, 5, 3, 2, 0, 2, 9, 1, 7, 1, 0, 4, 1, 3, 2, 8]);
    const dx = grads(
      { shape: [1, 4, 4, 1], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
      xv,
      new Float32Array([10, 20, 30, 40]),
    );
    expect(Array.from(dx)).toEqual([0, 10, 0, 0, 0, 0, 20, 0, 30, 0, 0, 0, 0, 0, 0, 40]);
  });

  it('a seeded training gives the same weights and loss bit for bit as with the original kernel', async () => {
    const x = tf.randomUniform([16, 12, 12, 1], 0, 1, 'float32', 3);
    const y = tf.tensor1d(
      Array.from({ length: 16 }, (_, i) => i % 3),
      'int32',
    );
    const train = async () => {
      const model = zeilerFergusCnn({
        inputShape: [12, 12, 1],
        filters: [4, 4],
        kernelSizes: [3, 3],
        hidden: [8],
        numClasses: 3,
        seed: 1,
      });
      const h = await trainClassifier(model, x, y, { epochs: 2, batchSize: 8, seed: 2 });
      const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      return { loss: h.epochs.map((e) => e.loss), weights };
    };
    const ours = await train();
    registerTrainingKernels(b, { kernels: TRAINING_KERNEL_NAMES.filter((k) => k !== 'MaxPoolGrad') });
    let orig: Awaited<ReturnType<typeof train>>;
    try {
      orig = await train();
    } finally {
      registerTrainingKernels(b, { kernels: TRAINING_KERNEL_NAMES });
    }
    expect(ours.loss).toEqual(orig.loss);
    expect(ours.weights).toEqual(orig.weights);
    tf.dispose([x, y]);
  });

  it('leaves no tensor behind', () => {
    const x: tf.Tensor4D = tf.randomNormal([2, 6, 6, 3]);
    const f = () => tf.sum(tf.maxPool(x, 2, 2, 'valid'));
    tf.dispose(tf.grad(f)(x));
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    tf.dispose(tf.grad(f)(x));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    x.dispose();
  });
});
