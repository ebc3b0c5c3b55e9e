import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { transposeInto } from '../../src/kernels/transpose.js';
import { backendName } from '../helpers.js';

/** Plain index oracle: out[i] = x[j] with j[perm[k]] = i[k]. */
function transposeRef(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const size = shape.reduce((a, d) => a * d, 1);
  const out = new Float32Array(size);
  const inStrides = shape.map((_, k) => shape.slice(k + 1).reduce((a, d) => a * d, 1));
  for (let o = 0; o < size; o++) {
    let rest = o;
    let src = 0;
    for (let k = rank - 1; k >= 0; k--) {
      const i = rest % outShape[k];
      rest = Math.floor(rest / outShape[k]);
      src += i * inStrides[perm[k]];
    }
    out[o] = x[src];
  }
  return out;
}

const CASES: [number[], number[]][] = [
  [
    [70, 45],
    [1, 0],
  ],
  [
    [33, 1],
    [1, 0],
  ],
  [
    [3, 40, 37],
    [0, 2, 1],
  ],
  [
    [2, 3, 4, 5],
    [3, 1, 2, 0],
  ],
  [
    [2, 5, 6, 7],
    [1, 2, 0, 3],
  ],
  [
    [3, 3, 4, 5],
    [0, 1, 3, 2],
  ],
  [
    [2, 3, 4, 5],
    [0, 2, 3, 1],
  ],
  [
    [2, 3, 4, 5],
    [0, 1, 2, 3],
  ],
  [
    [4, 3, 5],
    [2, 0, 1],
  ],
];

describe(`Transpose inside the training kernels on ${backendName()}`, () => {
  it('transposeInto equals the index oracle for 2-d, batched and 4-d permutations (tiles with edges)', () => {
    for (const [shape, perm] of CASES) {
      const size = shape.reduce((a, d) => a * d, 1);
      const x = Float32Array.from({ length: size }, (_, i) => i * 0.5 - 3);
      const out = new Float32Array(size);
      transposeInto(x, shape, perm, out);
      expect(Array.from(out)).toEqual(Array.from(transposeRef(x, shape, perm)));
    }
  });

  it('transposed matmuls through the registered kernels stay bit-identical to tf.transpose + matMul', async () => {
    const a = tf.randomNormal([70, 45], 0, 1, 'float32', 1);
    const b = tf.randomNormal([70, 38], 0, 1, 'float32', 2);
    const got = tf.matMul(a, b, true, false);
    const want = tf.tidy(() => {
      const at = tf.tensor2d(transposeRef(a.dataSync() as Float32Array, [70, 45], [1, 0]), [45, 70]);
      return tf.matMul(at, b);
    });
    expect(Array.from(await got.data())).toEqual(Array.from(await want.data()));
    tf.dispose([a, b, got, want]);
  });
});
