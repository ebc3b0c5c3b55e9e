import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { trainingKernelsRegistered } from '../../src/kernels/index.js';
import { expectNoLeak } from '../helpers.js';
import { onOriginal, useAllTrainingKernels } from './original.js';

const b = useAllTrainingKernels();

interface Out {
  shape: number[];
  dtype: string;
  values: number[];
}

function slice(x: tf.Tensor, begin: number[], size: number[]): Out {
  return tf.tidy(() => {
    const out = tf.slice(x, begin, size);
    return { shape: out.shape, dtype: out.dtype, values: Array.from(out.dataSync()) };
  });
}

/** Plain-JS oracle: every element of the slice by its multi-index. */
function oracle(vals: number[], shape: number[], begin: number[], size: number[]): number[] {
  const full = size.map((s, d) => (s === -1 ? shape[d] - begin[d] : s));
  const out: number[] = [];
  const total = full.reduce((a, d) => a * d, 1);
  for (let k = 0; k < total; k++) {
    let rest = k;
    let flat = 0;
    let stride = 1;
    const idx = new Array<number>(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = rest % full[d];
      rest = Math.floor(rest / full[d]);
    }
    for (let d = shape.length - 1; d >= 0; d--) {
      flat += (idx[d] + begin[d]) * stride;
      stride *= shape[d];
    }
    out.push(vals[flat]);
  }
  return out;
}

describe(`Slice training kernel on ${b}`, () => {
  it('is registered with the others', () => {
    expect(trainingKernelsRegistered(b)).toContain('Slice');
  });

  it('slices like a plain loop and bit for bit like the original (ranks 1-5, float32/int32/bool, -1 sizes)', () => {
    const rng = new Rng(7);
    const cases: [number[], number[], number[]][] = [
      [[9], [2], [5]],
      [[9], [0], [-1]],
      [
        [6, 5],
        [1, 0],
        [3, -1],
      ],
      [
        [6, 5],
        [2, 1],
        [2, 3],
      ],
      [
        [4, 5, 3],
        [1, 2, 0],
        [2, 2, 3],
      ],
      [
        [4, 5, 3],
        [0, 0, 1],
        [-1, -1, 1],
      ],
      [
        [10, 7, 7, 2],
        [3, 0, 0, 0],
        [4, -1, -1, -1],
      ],
      [
        [10, 7, 7, 2],
        [1, 2, 3, 1],
        [2, 3, 4, 1],
      ],
      [
        [3, 4, 2, 3, 2],
        [1, 1, 0, 1, 0],
        [2, 2, -1, 2, -1],
      ],
    ];
    for (const [shape, begin, size] of cases) {
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const n = shape.reduce((a, d) => a * d, 1);
        const vals = Array.from({ length: n }, () =>
          dtype === 'float32' ? rng.normal() : dtype === 'int32' ? rng.int(1000) - 500 : rng.int(2),
        );
        if (dtype === 'float32') vals[n - 1] = Number.NaN;
        const x = tf.tensor(vals, shape, dtype);
        const ours = slice(x, begin, size);
        const orig: Out = onOriginal(b, () => slice(x, begin, size));
        x.dispose();
        expect(ours.shape).toEqual(orig.shape);
        expect(ours.dtype).toBe(orig.dtype);
        expect(ours.values.every((v, i) => Object.is(v, orig.values[i]))).toBe(true);
        const want = oracle(vals, shape, begin, size).map((v) => (dtype === 'float32' ? Math.fround(v) : v));
        expect(ours.values.every((v, i) => Object.is(v, want[i]))).toBe(true);
      }
    }
  });

  it('hands an empty slice to the original through the original and leaks nothing', async () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    await expectNoLeak(async () => {
      const e = tf.slice(x, [1, 0], [0, 3]);
      expect(e.shape).toEqual([0, 3]);
      e.dispose();
      const y = tf.slice(x, [0, 1], [2, 2]);
      expect(Array.from(await y.data())).toEqual([2, 3, 5, 6]);
      y.dispose();
    });
    x.dispose();
  });

  it('never reads past the input: a slice beyond the bounds goes to the original (same result or error)', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const attempt = (): Out | string => {
      try {
        return slice(x, [2], [3]);
      } catch (e) {
        return (e as Error).message;
      }
    };
    const ours = attempt();
    const orig: Out | string = onOriginal(b, () => attempt());
    x.dispose();
    expect(ours).toEqual(orig);
    if (typeof ours !== 'string') expect(ours.values[0]).toBe(3);
  });
});
