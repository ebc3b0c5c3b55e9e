/**
 * `Sum` over LEADING axes (a column sum: the bias gradient of a layer, dy summed over N, H, W of an NHWC map, or over
 * the batch of a dense layer's dy) on the wasm backend, natively and without a transpose.
 *
 * tfjs-backend-wasm 4.22 sums only innermost axes: for `sum(dy, [0, 1, 2])` it first transposes dy ([N, H, W, C] to
 * [C, N, H, W], one element at a time through generic strides), then adds each row from 0 in order. The native
 * `tk_column_sum` (src/kernels/native/kernels.c) reads dy as it lies, [rows, cols], and accumulates every column from
 * 0 one row at a time, four (or sixteen) columns per SIMD step: each column's additions are the same float32
 * additions in the same order, so the result is bit-identical to the original's (a test checks it). Every other form
 * (inner axes, leading axes listed out of order, non-float32, the native module unavailable) goes to the original
 * kernel.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { heapBackend, heapOffset, nativeKernelOn, nativeKernels } from './native.js';
import type { KernelEnv } from './scope.js';

/**
 * The column sum on the wasm heap, or undefined when the original kernel must run (axes that are not a leading
 * prefix, all or none of the axes, other dtypes, another backend, no native module).
 */
export function sumLeadingDirect(
  env: KernelEnv,
  x: tf.TensorInfo,
  attrs: tf.SumAttrs,
): tf.TensorInfo | undefined {
  if (env.backendName !== 'wasm' || x.dtype !== 'float32' || !nativeKernelOn('columnSum')) return undefined;
  const rank = x.shape.length;
  if (rank < 2) return undefined;
  const axes = tf.util.parseAxisParam(attrs.axis, x.shape);
  const k = axes.length;
  // The leading axes 0..k-1 in this order (the original sums listed axes in the order given: [1, 0] adds in
  // another order), leaving at least one axis.
  if (k === 0 || k >= rank || axes.some((a, i) => a !== i)) return undefined;
  const rows = x.shape.slice(0, k).reduce((a, d) => a * d, 1);
  const cols = x.shape.slice(k).reduce((a, d) => a * d, 1);
  if (rows * cols === 0) return undefined;
  const native = nativeKernels(env.backend);
  if (native === undefined) return undefined;
  const outShape = attrs.keepDims
    ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)]
    : x.shape.slice(k);
  const out = heapBackend(env.backend).makeOutput(outShape, 'float32');
  native.tk_column_sum(heapOffset(env.backend, x), heapOffset(env.backend, out), rows, cols);
  return out;
}
