import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import {
  registerTrainingKernels,
  TRAINING_KERNEL_NAMES,
  type TrainingKernelBackend,
  unregisterTrainingKernels,
} from '../../src/kernels/index.js';
import { backendName, expectClose } from '../helpers.js';
import { matMulRef } from './oracle.js';

const b = backendName() as TrainingKernelBackend;
/** Every kernel, also those not on by default for this backend, so all are proven on both backends. */
const ALL = { kernels: TRAINING_KERNEL_NAMES };

beforeAll(() => {
  registerTrainingKernels(b, ALL);
});

afterAll(() => {
  registerTrainingKernels(b); // the project's default kernels again
});

function randomValues(rng: Rng, size: number): Float32Array {
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) v[i] = rng.normal();
  return v;
}

describe(`BatchMatMul training kernel on ${b}`, () => {
  it('equals a plain-loop oracle for every transpose flag, rank 2 and 3, with batch broadcasting', () => {
    const rng = new Rng(21);
    for (let k = 0; k < 32; k++) {
      const transposeA = (k & 1) === 1;
      const transposeB = (k & 2) === 2;
      const m = 1 + rng.int(9);
      const inner = 1 + rng.int(9);
      const n = 1 + rng.int(9);
      const rank3 = k >= 8;
      const batch = rank3 ? 1 + rng.int(3) : 1;
      const ba = rank3 && rng.int(3) === 0 ? 1 : batch;
      const bb = rank3 && ba !== 1 && rng.int(3) === 0 ? 1 : batch;
      const aShape = [ba, transposeA ? inner : m, transposeA ? m : inner];
      const bShape = [bb, transposeB ? n : inner, transposeB ? inner : n];
      const av = randomValues(rng, aShape[0] * aShape[1] * aShape[2]);
      const bv = randomValues(rng, bShape[0] * bShape[1] * bShape[2]);
      const ref = matMulRef(av, aShape, bv, bShape, transposeA, transposeB);
      const got = tf.tidy(() => {
        const a = rank3
          ? tf.tensor3d(av, aShape as [number, number, number])
          : tf.tensor2d(av, [aShape[1], aShape[2]]);
        const bt = rank3
          ? tf.tensor3d(bv, bShape as [number, number, number])
          : tf.tensor2d(bv, [bShape[1], bShape[2]]);
        const out = tf.matMul(a, bt, transposeA, transposeB);
        expect(out.shape).toEqual(rank3 ? ref.shape : ref.shape.slice(1));
        return out.dataSync();
      });
      expectClose(got, ref.values, 1e-4);
    }
  });

  it("equals the backend's original kernel on a dense-layer backward shape", () => {
    const rng = new Rng(22);
    const x = tf.tensor2d(randomValues(rng, 16 * 40), [16, 40]);
    const dy = tf.tensor2d(randomValues(rng, 16 * 30), [16, 30]);
    const w = tf.tensor2d(randomValues(rng, 40 * 30), [40, 30]);
    const ours = [tf.matMul(x, dy, true, false), tf.matMul(dy, w, false, true)];
    unregisterTrainingKernels(b);
    let orig: tf.Tensor[];
    try {
      orig = [tf.matMul(x, dy, true, false), tf.matMul(dy, w, false, true)];
    } finally {
      registerTrainingKernels(b, ALL);
    }
    for (let i = 0; i < 2; i++) expectClose(ours[i].dataSync(), orig[i].dataSync(), 1e-4);
    tf.dispose([x, dy, w, ...ours, ...orig]);
  });

  it('hands inputs it does not handle (int32) to the original kernel', () => {
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    const c = tf.tensor2d([1, 0, 2, 1, 0, 3], [3, 2], 'int32');
    if (b === 'cpu') {
      const out = tf.matMul(a, c, true, false); // a^T c: [2, 2]
      expect(Array.from(out.dataSync())).toEqual([7, 18, 10, 22]);
      out.dispose();
    } else {
      // wasm's original matmul is float32-only: its own error comes through unchanged.
      expect(() => tf.matMul(a, c, true, false)).toThrow(/non-float32|float32/);
    }
    tf.dispose([a, c]);
  });

  it('frees its transposed copies', () => {
    const a = tf.ones([5, 7]);
    const c = tf.ones([6, 7]);
    tf.dispose(tf.matMul(a, c, false, true));
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    tf.dispose([tf.matMul(a, c, false, true), tf.matMul(c, a, false, true)]);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    tf.dispose([a, c]);
  });
});
