import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, MissingDependencyError } from '../../src/core/errors.js';
import { defaultTrainingKernels } from '../../src/internal.js';
import { registerTrainingKernels, trainingKernelsRegistered } from '../../src/kernels/index.js';
import { initBackend } from '../../src/node/backend.js';
import { backendName } from '../helpers.js';

const start = backendName();

afterAll(async () => {
  // Back to the project's backend and kernels.
  registerTrainingKernels(start as 'cpu' | 'wasm');
  await tf.setBackend(start);
});

describe('initBackend', () => {
  it("'auto' picks wasm here (tfjs-node cannot install on this machine) and registers its kernels", async () => {
    let hasNode = true;
    try {
      await import('@tensorflow/tfjs-node' as string);
    } catch {
      hasNode = false;
    }
    const name = await initBackend();
    expect(name).toBe(hasNode ? 'tensorflow' : 'wasm');
    expect(tf.getBackend()).toBe(name);
    if (name === 'wasm') expect(trainingKernelsRegistered('wasm')).toEqual(defaultTrainingKernels('wasm'));
  });

  it('selects cpu or wasm on request, with the kernels asked for, and a model trains on it', async () => {
    expect(await initBackend('cpu', { trainingKernels: ['Conv2DBackpropFilter', 'BatchMatMul'] })).toBe(
      'cpu',
    );
    expect(trainingKernelsRegistered('cpu')).toEqual(['Conv2DBackpropFilter', 'BatchMatMul']);
    expect(await initBackend('wasm')).toBe('wasm');
    // A conv gradient runs on wasm (as shipped it throws: no Conv2DBackpropFilter kernel).
    const g = tf.grad((w: tf.Tensor) =>
      tf.sum(tf.conv2d(tf.ones([1, 5, 5, 2]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid')),
    );
    const gw = g(tf.ones([3, 3, 2, 1]));
    expect(Array.from(await gw.data())).toEqual(new Array(18).fill(9));
    tf.dispose(gw);
  });

  it('can leave the kernels alone', async () => {
    registerTrainingKernels('cpu', { kernels: [] });
    expect(await initBackend('cpu', { trainingKernels: false })).toBe('cpu');
    expect(trainingKernelsRegistered('cpu')).toEqual([]);
  });

  it('throws MissingDependencyError for a backend whose package is not installed', async () => {
    let hasNode = true;
    try {
      await import('@tensorflow/tfjs-node' as string);
    } catch {
      hasNode = false;
    }
    if (hasNode) return;
    await expect(initBackend('tensorflow')).rejects.toThrow(MissingDependencyError);
    await expect(initBackend('tensorflow')).rejects.toThrow(/npm i @tensorflow\/tfjs-node/);
  });

  it('rejects unknown names and bad options with a typed error', async () => {
    await expect(initBackend('webgl-nope')).rejects.toThrow(InvalidArgumentError);
    await expect(initBackend('webgl-nope')).rejects.toThrow(/Received: "webgl-nope"/);
    await expect(initBackend('cpu', { trainingKernels: 'yes' as unknown as boolean })).rejects.toThrow(
      /options.trainingKernels/,
    );
  });
});
