/**
 * `BatchMatMul` with `transposeA` / `transposeB` as an explicit transpose followed by a plain matmul.
 *
 * Backprop through a dense layer multiplies by transposed operands (dX = dY W^T, dW = X^T dY). The wasm
 * backend's matmul is fast only on untransposed operands (FINDINGS.md: 128x800 by 800x800 takes ~9 ms plain and
 * ~100 ms with a transpose flag); materialising the transpose costs one pass over the operand.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { type KernelEnv, withKernelScope } from './scope.js';

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
    const at = attrs.transposeA ? s.run('Transpose', { x: a }, { perm: swapLastTwo(a.shape.length) }) : a;
    const bt = attrs.transposeB ? s.run('Transpose', { x: b }, { perm: swapLastTwo(b.shape.length) }) : b;
    return s.run('BatchMatMul', { a: at, b: bt }, { transposeA: false, transposeB: false });
  });
}
