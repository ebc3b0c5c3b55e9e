/**
 * `Add` of a bias vector over the last axis (`x [..., C] + b [C]`, either operand order) on the wasm backend, natively.
 *
 * While gradients are recorded, tfjs-core does not fuse a layer's bias and activation into its convolution or matmul
 * (`fused.conv2d` falls back to Conv2D + Add + Relu), so every conv and dense layer of a training step runs a
 * broadcasting `Add`; tfjs-backend-wasm 4.22's Add walks a broadcast through generic index arithmetic, and in the zoo
 * CNN's step these four adds cost ~7% of the step (docs/benchmarks.md). The native `tk_bias_add`
 * (src/kernels/native/kernels.c) adds the bias row by row with SIMD: the same one float32 addition per element (and
 * float addition is commutative), so the result is bit-identical to the original's. Every other form goes to the
 * original kernel.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { heapBackend, heapOffset, nativeKernelOn, nativeKernels } from './native.js';
import type { KernelEnv } from './scope.js';

/** Whether `b` is a bias for `x`: all its axes 1 but the last, which equals x's last, and no more axes than x. */
function isBiasOf(x: tf.TensorInfo, b: tf.TensorInfo): boolean {
  const r = x.shape.length;
  const rb = b.shape.length;
  if (r < 2 || rb < 1 || rb > r) return false;
  const c = x.shape[r - 1];
  if (b.shape[rb - 1] !== c || c === 0) return false;
  for (let i = 0; i < rb - 1; i++) if (b.shape[i] !== 1) return false;
  return x.shape.every((d) => d > 0);
}

/** The bias add on the wasm heap, or undefined when the original kernel must run. */
export function biasAddDirect(env: KernelEnv, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo | undefined {
  if (env.backendName !== 'wasm' || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  if (!nativeKernelOn('biasAdd')) return undefined;
  let x: tf.TensorInfo;
  let bias: tf.TensorInfo;
  if (isBiasOf(a, b)) {
    x = a;
    bias = b;
  } else if (isBiasOf(b, a)) {
    x = b;
    bias = a;
  } else {
    return undefined;
  }
  const native = nativeKernels(env.backend);
  if (native === undefined) return undefined;
  const cols = x.shape[x.shape.length - 1];
  const rows = x.shape.reduce((p, d) => p * d, 1) / cols;
  const out = heapBackend(env.backend).makeOutput([...x.shape], 'float32');
  native.tk_bias_add(
    heapOffset(env.backend, x),
    heapOffset(env.backend, bias),
    heapOffset(env.backend, out),
    rows,
    cols,
  );
  return out;
}
