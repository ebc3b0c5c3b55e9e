/**
 * `Identity` on wasm without a copy.
 *
 * While gradients are recorded, tfjs-core's engine keeps every tensor a kernel saves for its backward pass as a
 * clone (`Identity`), and tfjs-backend-wasm's `Identity` copies the data (the cpu backend shares it). A training step
 * of the zoo CNN clones 34 tensors, among them its largest activations ([64, 24, 24, 16]: 2.4 MB, ~0.25 ms each).
 * Tensors are immutable, so the clone can share the input's memory, reference-counted, exactly as the wasm backend's
 * own `Reshape` and the cpu backend's `Identity` do: bit-identical, no copy.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { KernelEnv } from './scope.js';

let shared = true;

/**
 * Switches the shared clone on or off (off: the backend's copying Identity). For the `step` benchmark's
 * before/after; returns the previous setting.
 *
 * @internal
 */
export function setSharedIdentity(on: boolean): boolean {
  const was = shared;
  shared = on;
  return was;
}

/** The clone sharing `x`'s data (one more reference), or undefined where the original must run (strings, not wasm). */
export function identityShared(env: KernelEnv, x: tf.TensorInfo): tf.TensorInfo | undefined {
  if (!shared || env.backendName !== 'wasm' || x.dtype === 'string') return undefined;
  const backend = env.backend as unknown as { incRef?(dataId: tf.DataId): void };
  if (typeof backend.incRef !== 'function') return undefined;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}
