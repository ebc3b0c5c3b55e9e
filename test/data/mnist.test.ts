import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DisposedError, InvalidArgumentError } from '../../src/index.js';
import { loadMnistDigits } from '../../src/internal.js';
import { loadMnist } from '../../src/node.js';
import { expectThrowsNoLeak } from '../helpers.js';

describe('loadMnist', () => {
  it('reads the 10,000 digits of the mnist package, class by class, in [0, 1]', async () => {
    const d = await loadMnistDigits();
    expect(d.count).toBe(10000);
    expect(d.pixels.length).toBe(10000 * 784);
    const perClass = Array.from({ length: 10 }, (_, c) => d.labels.filter((l) => l === c).length);
    expect(perClass).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let max = 0;
    for (let i = 0; i < 784 * 50; i++) max = Math.max(max, d.pixels[i]);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.9);
  });

  it('splits a class subset reproducibly, relabels, and frees its tensors on dispose', async () => {
    const before = tf.memory().numTensors;
    const a = await loadMnist({
      seed: 3,
      testFraction: 0.5,
      classes: [5, 9],
      relabel: true,
      limitPerClass: 20,
    });
    const b = await loadMnist({
      seed: 3,
      testFraction: 0.5,
      classes: [5, 9],
      relabel: true,
      limitPerClass: 20,
    });
    expect(a.train.indices).toEqual(b.train.indices);
    expect(a.train.x.shape).toEqual([20, 28, 28, 1]);
    expect(a.test.y.shape).toEqual([20]);
    expect(a.test.y.dtype).toBe('int32');
    expect(a.numClasses).toBe(2);
    expect(Array.from(await a.train.y.data())).toEqual(a.train.labels);
    expect(a.train.labels.filter((l) => l === 0)).toHaveLength(10);
    const digits = await loadMnistDigits();
    a.train.indices.forEach((src, i) => {
      expect(digits.labels[src]).toBe(a.train.labels[i] === 0 ? 5 : 9);
    });
    // The tensor holds the same pixels as the source digit.
    const x = await a.train.x.data();
    const src = a.train.indices[3];
    expect(Array.from(x.subarray(3 * 784, 4 * 784))).toEqual(
      Array.from(digits.pixels.subarray(src * 784, (src + 1) * 784)),
    );
    let seen = 0;
    for (const batch of a.batches('train', 8, { seed: 1 })) {
      expect(batch.x.shape.slice(1)).toEqual([28, 28, 1]);
      seen += batch.y.shape[0];
      tf.dispose([batch.x, batch.y]);
    }
    expect(seen).toBe(20);
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => a.batches('train', 4).next()).toThrow(DisposedError);
  });

  it('rejects bad options before loading anything', async () => {
    await expectThrowsNoLeak(
      () => loadMnist({ seed: 0, classes: [10] }),
      InvalidArgumentError,
      /classes\[0\]/,
    );
    await expectThrowsNoLeak(() => loadMnist({ seed: 0, testFraction: -0.1 }), InvalidArgumentError);
  });
});
