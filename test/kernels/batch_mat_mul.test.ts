import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { preferNativeMatMul, setMatMulSwap, swapTransposeB } from '../../src/kernels/batch_mat_mul.js';
import { setNativeKernel } from '../../src/kernels/native.js';
import { expectClose } from '../helpers.js';
import { matMulRef } from './oracle.js';
import { onOriginal, useAllTrainingKernels, withSwitch } from './original.js';

const b = useAllTrainingKernels();

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
    const orig = onOriginal(b, () => [tf.matMul(x, dy, true, false), tf.matMul(dy, w, false, true)]);
    for (let i = 0; i < 2; i++) expectClose(ours[i].dataSync(), orig[i].dataSync(), 1e-4);
    tf.dispose([x, dy, w, ...ours, ...orig]);
  });

  it('computes A . B^T as (B . A^T)^T where B is the larger operand, equal to the oracle and to the plain path', () => {
    expect(swapTransposeB(128, 800, 800)).toBe(true); // the MLP's dX = dY W^T
    expect(swapTransposeB(128, 10, 800)).toBe(false); // the logits' dX: W is small
    const rng = new Rng(23);
    for (const [aShape, bShape] of [
      [
        [3, 40],
        [50, 40],
      ],
      [
        [1, 5, 33],
        [1, 61, 33],
      ],
      [
        [1, 7, 20],
        [45, 20],
      ],
      [
        [24, 64],
        [130, 64],
      ],
    ] as const) {
      const av = randomValues(
        rng,
        aShape.reduce((x: number, y: number) => x * y, 1),
      );
      const bv = randomValues(
        rng,
        bShape.reduce((x: number, y: number) => x * y, 1),
      );
      const m = aShape[aShape.length - 2];
      const n = bShape[bShape.length - 2];
      const k = aShape[aShape.length - 1];
      const ref = matMulRef(av, [1, m, k], bv, [1, n, k], false, true);
      const run = () =>
        tf.tidy(() => {
          const out = tf.matMul(tf.tensor(av, [...aShape]), tf.tensor(bv, [...bShape]), false, true);
          return { shape: out.shape, values: out.dataSync() };
        });
      // The swap is the path where the native product does not run (switched off here).
      const nativeWas = setNativeKernel('matMul', false);
      const swapped = run();
      const was = setMatMulSwap(false);
      let plain: ReturnType<typeof run>;
      try {
        plain = run();
      } finally {
        setMatMulSwap(was);
        setNativeKernel('matMul', nativeWas);
      }
      expect(swapped.shape).toEqual(plain.shape);
      expect(swapped.shape.slice(-2)).toEqual([m, n]);
      expectClose(swapped.values, ref.values, 1e-4, 1e-5);
      expectClose(swapped.values, plain.values, 1e-5, 1e-6);
    }
    // no intermediate left behind
    const a = tf.ones([3, 40]);
    const c = tf.ones([50, 40]);
    tf.dispose(tf.matMul(a, c, false, true));
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    tf.dispose(tf.matMul(a, c, false, true));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    tf.dispose([a, c]);
  });

  it.runIf(b === 'wasm')(
    'the native product equals the oracle with partial blocks, every single transpose, with and without it',
    () => {
      expect(preferNativeMatMul(128, 800, 800)).toBe(true); // the MLP's layers
      expect(preferNativeMatMul(1024, 1024, 1024)).toBe(false); // B leaves the cache: the backend's matmul
      expect(preferNativeMatMul(3894, 800, 5)).toBe(false); // LinearSvm's scores: blocks of 8 columns run empty
      expect(preferNativeMatMul(800, 128, 10, true)).toBe(true); // a logits layer's weight gradient
      expect(preferNativeMatMul(128, 800, 10)).toBe(false);
      const rng = new Rng(24);
      // m, k, n not multiples of 4 or 8 (partial row blocks, a 4-channel block, lone channels); the zoo CNN's fc.
      const dims = [
        [13, 37, 21],
        [5, 3, 9],
        [64, 50, 128],
        [1, 1, 1],
        [7, 16, 6],
      ];
      for (const native of [true, false]) {
        withSwitch(
          (v) => setNativeKernel('matMul', v),
          native,
          () => {
            for (const [m, k, n] of dims) {
              for (const [transposeA, transposeB] of [
                [false, false],
                [true, false],
                [false, true],
                [true, true],
              ]) {
                const rank3 = (m + n) % 2 === 0;
                const aShape = [1, transposeA ? k : m, transposeA ? m : k];
                const bShape = [1, transposeB ? n : k, transposeB ? k : n];
                const av = randomValues(rng, m * k);
                const bv = randomValues(rng, k * n);
                const ref = matMulRef(av, aShape, bv, bShape, transposeA, transposeB);
                const got = tf.tidy(() => {
                  const a = tf.tensor(av, rank3 ? aShape : aShape.slice(1));
                  const c = tf.tensor(bv, rank3 ? bShape : bShape.slice(1));
                  const out = tf.matMul(a as tf.Tensor2D, c as tf.Tensor2D, transposeA, transposeB);
                  expect(out.shape).toEqual(rank3 ? ref.shape : ref.shape.slice(1));
                  return out.dataSync();
                });
                try {
                  expectClose(got, ref.values, 1e-4, 1e-5);
                } catch (e) {
                  throw new Error(
                    `native ${native} [${m}, ${k}, ${n}] ${transposeA} ${transposeB}: ${(e as Error).message}`,
                  );
                }
              }
            }
            // No intermediate left behind (A . B^T transposes B first).
            const a = tf.ones([13, 37]);
            const others = [tf.ones([21, 37]), tf.ones([13, 5]), tf.ones([37, 5]), tf.ones([5, 13])];
            const all = () => [
              tf.matMul(a, others[0], false, true),
              tf.matMul(a, others[1], true, false),
              tf.matMul(a, others[2]),
              tf.matMul(a, others[3], true, true),
            ];
            tf.dispose(all());
            const tensors = tf.memory().numTensors;
            const buffers = tf.engine().backend.numDataIds();
            tf.dispose(all());
            expect(tf.memory().numTensors).toBe(tensors);
            expect(tf.engine().backend.numDataIds()).toBe(buffers);
            tf.dispose([a, ...others]);
          },
        );
      }
    },
  );

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
