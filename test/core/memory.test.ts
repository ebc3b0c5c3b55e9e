import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeMismatchError } from '../../src/index.js';
import { checkTensor, scoped, withTracked } from '../../src/internal.js';
import { expectNoLeak, expectThrowsNoLeak } from '../helpers.js';

const sumOfSquares = scoped('sumOfSquares', (x: tf.Tensor) => {
  checkTensor('sumOfSquares', 'x', x, { rank: 1 });
  return tf.sum(tf.square(x));
});

const failsHalfway = scoped('failsHalfway', (x: tf.Tensor) => {
  tf.square(x);
  tf.add(x, 1);
  throw new Error('boom');
});

describe('scoped', () => {
  it('returns the result and frees intermediates', async () => {
    const x = tf.tensor1d([1, 2, 3]);
    await expectNoLeak(() => sumOfSquares(x));
    const y = sumOfSquares(x);
    expect(await y.data()).toEqual(new Float32Array([14]));
    expect(x.isDisposed).toBe(false);
    tf.dispose([x, y]);
  });

  it('frees intermediates when the body throws', async () => {
    const x = tf.tensor1d([1, 2, 3]);
    await expectThrowsNoLeak(() => failsHalfway(x), Error, 'boom');
    x.dispose();
  });

  it('rejects a tensor of the wrong rank with its shape in the message', async () => {
    const x = tf.zeros([2, 3]);
    await expectThrowsNoLeak(
      () => sumOfSquares(x),
      ShapeMismatchError,
      /rank 1.*Received: rank 2, shape \[2, 3\]/,
    );
    x.dispose();
    await expectThrowsNoLeak(
      () => sumOfSquares(x),
      InvalidArgumentError,
      /not disposed.*disposed Tensor float32/,
    );
  });
});

describe('withTracked', () => {
  it('disposes tracked tensors after async work, also on rejection', async () => {
    const before = tf.memory().numTensors;
    const v = await withTracked(async (track) => {
      const x = track(tf.tensor1d([1, 2]));
      const s = track(tf.sum(x));
      return (await s.data())[0];
    });
    expect(v).toBe(3);
    await expect(
      withTracked(async (track) => {
        track(tf.ones([3]));
        throw new Error('late failure');
      }),
    ).rejects.toThrow('late failure');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('release() frees what was tracked so far, and tensors tracked later at the end', async () => {
    const before = tf.memory().numTensors;
    await withTracked(async (track, release) => {
      const a = track(tf.ones([2]));
      const b = track([tf.zeros([3]), tf.zeros([1])]);
      release();
      expect([a.isDisposed, b[0].isDisposed, b[1].isDisposed]).toEqual([true, true, true]);
      const c = track(tf.ones([4]));
      expect(c.isDisposed).toBe(false);
      expect(tf.memory().numTensors).toBe(before + 1);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
