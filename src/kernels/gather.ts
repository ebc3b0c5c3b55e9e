/**
 * `GatherV2` of whole rows (axis 0, no batch dimensions) on the wasm backend as one copy per gathered row.
 *
 * Every training step gathers its mini-batch from the training set (`tf.gather(x, indices)` in transferkit's loop,
 * `model.fit`'s batching likewise). tfjs-backend-wasm 4.22's Gather computes a source index per element through
 * generic strides: 64 rows of [28, 28, 1] took 1.5 ms and 128 rows of 784 took 3.4 ms, 4-7% of a training step of
 * the zoo CNN or the student MLP; copying each row as one contiguous block takes 0.02-0.07 ms (measured). Gathering
 * only moves values, so the result is bit-identical to the original's. Any other form (another axis, batch
 * dimensions, an index out of range, whose error the original raises) goes to the original kernel.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { KernelEnv } from './scope.js';

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

let enabled = true;

/**
 * Switches the row gather on or off (off: the backend's own GatherV2 runs). For the `step` benchmark's
 * before/after in one run; returns the previous setting.
 *
 * @internal
 */
export function setGatherRows(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** The gathered rows on the wasm heap, or undefined when the original kernel must run. */
export function gatherRowsDirect(
  env: KernelEnv,
  x: tf.TensorInfo,
  indices: tf.TensorInfo,
  attrs: tf.GatherV2Attrs,
): tf.TensorInfo | undefined {
  if (!enabled || env.backendName !== 'wasm' || (attrs.batchDims ?? 0) !== 0 || x.shape.length === 0)
    return undefined;
  const axis = attrs.axis < 0 ? attrs.axis + x.shape.length : attrs.axis;
  if (axis !== 0 || indices.dtype !== 'int32') return undefined;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return undefined;
  const rows = x.shape[0];
  const row = x.shape.slice(1).reduce((a, d) => a * d, 1);
  if (rows * row === 0) return undefined;
  const backend = env.backend as unknown as HeapBackend;
  const idx0 = backend.typedArrayFromHeap(indices);
  for (let i = 0; i < idx0.length; i++) {
    const k = idx0[i];
    if (!(k >= 0 && k < rows)) return undefined;
  }
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
  // Views after the allocation: growing the wasm memory detaches older views.
  const src = backend.typedArrayFromHeap(x);
  const idx = backend.typedArrayFromHeap(indices);
  const dst = backend.typedArrayFromHeap(out);
  for (let i = 0; i < idx.length; i++) {
    const start = idx[i] * row;
    dst.set(src.subarray(start, start + row), i * row);
  }
  return out;
}
