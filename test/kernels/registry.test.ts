import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { defaultTrainingKernels } from '../../src/internal.js';
import {
  registerTrainingKernels,
  TRAINING_KERNEL_NAMES,
  type TrainingKernelBackend,
  trainingKernelsRegistered,
  unregisterTrainingKernels,
} from '../../src/kernels/index.js';
import { backendName, expectThrowsNoLeak } from '../helpers.js';

const b = backendName() as TrainingKernelBackend;
/** Every kernel, also those not on by default for this backend, so all are proven on both backends. */
const ALL = { kernels: TRAINING_KERNEL_NAMES };

afterAll(() => {
  registerTrainingKernels(b);
});

describe(`registerTrainingKernels on ${b}`, () => {
  it('the test setup registered the default kernels of this backend', () => {
    expect(trainingKernelsRegistered(b)).toEqual(defaultTrainingKernels(b));
    expect(defaultTrainingKernels('wasm')).toEqual([...TRAINING_KERNEL_NAMES]);
    expect(defaultTrainingKernels('cpu')).toEqual(['Conv2DBackpropFilter']);
  });

  it('is idempotent: a second call changes nothing', () => {
    const defaults = TRAINING_KERNEL_NAMES.map((n) => tf.getKernel(n, b));
    expect(registerTrainingKernels(b)).toEqual(defaultTrainingKernels(b));
    TRAINING_KERNEL_NAMES.forEach((n, i) => {
      expect(tf.getKernel(n, b)).toBe(defaults[i]);
    });
    expect(registerTrainingKernels(b, ALL)).toEqual([...TRAINING_KERNEL_NAMES]);
    const before = TRAINING_KERNEL_NAMES.map((n) => tf.getKernel(n, b));
    expect(registerTrainingKernels(b, ALL)).toEqual([...TRAINING_KERNEL_NAMES]);
    TRAINING_KERNEL_NAMES.forEach((n, i) => {
      expect(tf.getKernel(n, b)).toBe(before[i]);
    });
  });

  it("is reversible: unregister restores the backend's original configs (and their setupFunc)", () => {
    const restored = unregisterTrainingKernels(b);
    expect(restored).toEqual([...TRAINING_KERNEL_NAMES]);
    expect(trainingKernelsRegistered(b)).toEqual([]);
    expect(unregisterTrainingKernels(b)).toEqual([]); // idempotent too
    const filter = tf.getKernel('Conv2DBackpropFilter', b);
    if (b === 'wasm') {
      expect(filter).toBeUndefined(); // wasm as shipped has none
      expect(tf.getKernel('BatchMatMul', b)?.setupFunc).toBeTypeOf('function');
    } else {
      expect(filter).toBeDefined();
    }
    const originals = ['Conv2DBackpropInput', 'BatchMatMul'].map((n) => tf.getKernel(n, b));
    registerTrainingKernels(b, ALL);
    // The wrappers carry the originals' setup so the wasm backend binds the functions the fallbacks need.
    expect(tf.getKernel('BatchMatMul', b)?.setupFunc).toBe(originals[1]?.setupFunc);
    unregisterTrainingKernels(b);
    expect(tf.getKernel('Conv2DBackpropInput', b)).toBe(originals[0]);
    expect(tf.getKernel('BatchMatMul', b)).toBe(originals[1]);
    registerTrainingKernels(b, ALL);
  });

  it('registers exactly the kernels asked for, restoring the others', () => {
    expect(registerTrainingKernels(b, { kernels: ['BatchMatMul'] })).toEqual(['BatchMatMul']);
    expect(trainingKernelsRegistered(b)).toEqual(['BatchMatMul']);
    expect(registerTrainingKernels(b, ALL)).toEqual([...TRAINING_KERNEL_NAMES]);
  });

  it('trains a small conv net with fit() and the loss goes down', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [8, 8, 1],
          filters: 4,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
        }),
        tfl.layers.conv2d({
          filters: 4,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
        }),
        tfl.layers.flatten(),
        tfl.layers.dense({
          units: 2,
          activation: 'softmax',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
        }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
    // Class 1 has a bright top half, class 0 a bright bottom half.
    const xs = tf.tidy(() => {
      const top = tf.concat([tf.ones([8, 4, 8, 1]), tf.zeros([8, 4, 8, 1])], 1);
      const bottom = tf.concat([tf.zeros([8, 4, 8, 1]), tf.ones([8, 4, 8, 1])], 1);
      return tf.concat([top, bottom], 0);
    });
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d([...Array(8).fill(1), ...Array(8).fill(0)], 'int32'), 2));
    const h = await model.fit(xs, ys, { epochs: 15, batchSize: 16, verbose: 0 });
    const loss = h.history.loss as number[];
    expect(loss[loss.length - 1]).toBeLessThan(loss[0] * 0.5);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('rejects other backends and unknown kernel names with a typed error', async () => {
    await expectThrowsNoLeak(
      () => registerTrainingKernels('webgl' as TrainingKernelBackend),
      InvalidArgumentError,
      /Invalid `backendName` passed to `registerTrainingKernels`. Expected one of 'wasm', 'cpu'.*Received: "webgl"/,
    );
    await expectThrowsNoLeak(
      () => registerTrainingKernels(b, { kernels: ['Conv3D' as 'BatchMatMul'] }),
      InvalidArgumentError,
      /options.kernels.*Received: "Conv3D"/,
    );
    await expectThrowsNoLeak(
      () => unregisterTrainingKernels('node' as TrainingKernelBackend),
      InvalidArgumentError,
    );
    expect(trainingKernelsRegistered(b)).toEqual([...TRAINING_KERNEL_NAMES]);
  });
});
