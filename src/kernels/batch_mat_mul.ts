/**
 * `BatchMatMul` with `transposeA` / `transposeB` as an explicit transpose followed by a plain matmul.
 *
 * Backprop through a dense layer multiplies by transposed operands (dX = dY W^T, dW = X^T dY). The wasm
 * backend's matmul is fast only on untransposed operands (FINDINGS.md: 128x800 by 800x800 takes ~9 ms plain and
 * ~100 ms with a transpose flag); materialising the transpose costs one pass over the operand.
 *
 * The wasm backend's plain matmul re-packs its right operand (XNNPACK's fully-connected "weights") on every call
 * whose operand is a new tensor, which every backward pass is. For `A . B^T` with B the larger operand (dX = dY W^T
 * with W [800, 800] and dY [128, 800]), the product is computed as `(B . A^T)^T` instead: two transposes of the
 * small operands and the small result, and the packed operand is A^T, not B^T (128x800 by 800x800: 11 -> 7.8 ms,
 * measured). Each element is the same dot product of the same two vectors; the backend's kernel may add the terms
 * in another order (within float32 rounding). The choice is {@link swapTransposeB}.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { type KernelEnv, withKernelScope } from './scope.js';

let swapEnabled = true;

/**
 * Switches the swapped product for `transposeB` on or off (off: transpose B, then multiply). For the tests and the
 * `step` benchmark's before/after; returns the previous setting.
 *
 * @internal
 */
export function setMatMulSwap(on: boolean): boolean {
  const was = swapEnabled;
  swapEnabled = on;
  return was;
}

/**
 * Whether `A [m, k] . B^T` (B `[n, k]`) is cheaper as `(B . A^T)^T` on wasm: the elements transposed or packed,
 * `2mk + mn` against `2nk`.
 */
export function swapTransposeB(m: number, k: number, n: number): boolean {
  return 2 * m * k + m * n < 2 * n * k;
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/** A @ B with the transposes made explicit, computed by the backend's original BatchMatMul. */
export function batchMatMulViaTranspose(
  env: KernelEnv,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  attrs: tf.BatchMatMulAttrs,
): tf.TensorInfo {
  return withKernelScope(env, (s) => {
    const ra = a.shape.length;
    const rb = b.shape.length;
    const single = a.shape.slice(0, -2).every((d) => d === 1) && b.shape.slice(0, -2).every((d) => d === 1);
    if (env.backendName === 'wasm' && swapEnabled && !attrs.transposeA && attrs.transposeB && single) {
      const m = a.shape[ra - 2];
      const k = a.shape[ra - 1];
      const n = b.shape[rb - 2];
      if (swapTransposeB(m, k, n)) {
        const a2 = s.run('Reshape', { x: a }, { shape: [m, k] });
        const b2 = s.run('Reshape', { x: b }, { shape: [n, k] });
        const at = s.run('Transpose', { x: a2 }, { perm: [1, 0] });
        const bat = s.run('BatchMatMul', { a: b2, b: at }, { transposeA: false, transposeB: false }); // [n, m]
        const out = s.run('Transpose', { x: bat }, { perm: [1, 0] });
        const lead = Math.max(ra, rb) - 2;
        return s.run('Reshape', { x: out }, { shape: [...new Array<number>(lead).fill(1), m, n] });
      }
    }
    const at = attrs.transposeA ? s.run('Transpose', { x: a }, { perm: swapLastTwo(ra) }) : a;
    const bt = attrs.transposeB ? s.run('Transpose', { x: b }, { perm: swapLastTwo(rb) }) : b;
    return s.run('BatchMatMul', { a: at, b: bt }, { transposeA: false, transposeB: false });
  });
}
