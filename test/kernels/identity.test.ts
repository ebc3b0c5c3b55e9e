import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  registerTrainingKernels,
  TRAINING_KERNEL_NAMES,
  type TrainingKernelBackend,
} from '../../src/kernels/index.js';
import { backendName } from '../helpers.js';

const b = backendName() as TrainingKernelBackend;

beforeAll(() => {
  registerTrainingKernels(b, { kernels: TRAINING_KERNEL_NAMES });
});

afterAll(() => {
  registerTrainingKernels(b); // the project's default kernels again
});

describe(`Identity training kernel on ${b}`, () => {
  it('clones without a copy: same values, shared data, each tensor disposable on its own, in either order', () => {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      for (const disposeOriginalFirst of [true, false]) {
        const x = tf.tensor([1, -2, 0, 3.5, 7, -0.25], [2, 3], dtype);
        const expected = Array.from(x.dataSync());
        const tensors = tf.memory().numTensors;
        const buffers = tf.engine().backend.numDataIds();
        const y = tf.clone(x);
        expect(y.shape).toEqual([2, 3]);
        expect(y.dtype).toBe(dtype);
        expect(tf.memory().numTensors).toBe(tensors + 1);
        // Both backends now share the data (cpu always did): no new buffer.
        expect(tf.engine().backend.numDataIds()).toBe(buffers);
        const [first, second] = disposeOriginalFirst ? [x, y] : [y, x];
        first.dispose();
        expect(Array.from(second.dataSync())).toEqual(expected);
        second.dispose();
        expect(tf.memory().numTensors).toBe(tensors - 1);
        expect(tf.engine().backend.numDataIds()).toBe(buffers - 1);
      }
    }
  });

  it('keeps the saved tensors of a backward pass intact: gradients equal the closed form', () => {
    // d/dx sum(relu(x) * x) = 2x where x > 0, else 0; the engine clones x and relu(x) for the backward pass.
    const x = tf.tensor1d([-1.5, 0.5, 2, -3, 4]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), v)))(x);
    expect(Array.from(g.dataSync())).toEqual([0, 1, 4, 0, 8]);
    tf.dispose([x, g]);
  });

  it('hands strings to the original kernel', () => {
    const s = tf.tensor(['a', 'bc']);
    const c = tf.clone(s);
    expect(c.dataSync()).toEqual(['a', 'bc']);
    tf.dispose([s, c]);
  });
});
