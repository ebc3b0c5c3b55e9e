import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { trainingKernelsRegistered } from '../../src/kernels/index.js';
import { onOriginal, useAllTrainingKernels } from './original.js';

const b = useAllTrainingKernels();

interface Out {
  shape: number[];
  dtype: string;
  values: number[];
}

function gather(x: tf.Tensor, idx: tf.Tensor, axis = 0, batchDims = 0): Out {
  return tf.tidy(() => {
    const out = tf.gather(x, idx, axis, batchDims);
    return { shape: out.shape, dtype: out.dtype, values: Array.from(out.dataSync()) };
  });
}

/** Ours and the backend's original on the same inputs: equal bit for bit, same shape and dtype. */
function expectSameAsOriginal(x: tf.Tensor, idx: tf.Tensor, axis = 0, batchDims = 0): Out {
  const ours = gather(x, idx, axis, batchDims);
  const orig = onOriginal(b, () => gather(x, idx, axis, batchDims));
  expect(ours.shape).toEqual(orig.shape);
  expect(ours.dtype).toBe(orig.dtype);
  expect(ours.values.map((v, i) => Object.is(v, orig.values[i])).every(Boolean)).toBe(true);
  return ours;
}

describe(`GatherV2 training kernel on ${b}`, () => {
  it('is registered with the others', () => {
    expect(trainingKernelsRegistered(b)).toContain('GatherV2');
  });

  it('gathers rows like a plain loop and like the original (ranks 1-4, float32 and int32, repeated indices)', () => {
    const rng = new Rng(51);
    for (const shape of [[7], [9, 5], [6, 4, 3], [10, 28, 28, 1], [5, 2, 3, 4]]) {
      for (const dtype of ['float32', 'int32'] as const) {
        const size = shape.reduce((a, d) => a * d, 1);
        const vals = Array.from({ length: size }, () =>
          dtype === 'int32' ? rng.int(1000) - 500 : rng.normal(),
        );
        vals[0] = dtype === 'float32' ? Number.NaN : vals[0];
        const x = tf.tensor(vals, shape, dtype);
        const picks = Array.from({ length: 6 }, () => rng.int(shape[0]));
        picks.push(picks[0]); // repeated
        for (const idxShape of [[7], [7, 1]]) {
          const idx = tf.tensor(picks, idxShape, 'int32');
          const out = expectSameAsOriginal(x, idx);
          const row = size / shape[0];
          const expected = picks.flatMap((p) => vals.slice(p * row, (p + 1) * row));
          expect(out.shape).toEqual([...idxShape, ...shape.slice(1)]);
          expect(
            out.values
              .map((v, i) => Object.is(v, dtype === 'float32' ? Math.fround(expected[i]) : expected[i]))
              .every(Boolean),
          ).toBe(true);
          idx.dispose();
        }
        x.dispose();
      }
    }
  });

  it('hands other forms to the original: another axis, batch dimensions, a negative axis, an empty index list', () => {
    const x = tf.tensor3d(
      Array.from({ length: 24 }, (_, i) => i),
      [2, 3, 4],
    );
    const i1 = tf.tensor1d([2, 0], 'int32');
    expectSameAsOriginal(x, i1, 1);
    expectSameAsOriginal(x, i1, -1);
    const ib = tf.tensor2d([1, 0, 2, 2], [2, 2], 'int32');
    expectSameAsOriginal(x, ib, 1, 1);
    const empty = tf.tensor1d([], 'int32');
    expectSameAsOriginal(x, empty);
    tf.dispose([x, i1, ib, empty]);
  });

  it("leaves an out-of-range index to the original kernel's own check", () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const bad = tf.tensor1d([0, 2], 'int32');
    const tensors = tf.memory().numTensors;
    if (b === 'wasm') expect(() => tf.gather(x, bad)).toThrow(/not in \[0, 1\]/);
    expect(tf.memory().numTensors).toBe(tensors);
    tf.dispose([x, bad]);
  });

  it('leaves nothing behind', () => {
    const x = tf.ones([8, 5]);
    const idx = tf.tensor1d([3, 1, 4], 'int32');
    tf.dispose(tf.gather(x, idx));
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    tf.dispose([tf.gather(x, idx), tf.gather(x, idx, 1)]);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    tf.dispose([x, idx]);
  });
});
