/**
 * `Slice` on the wasm backend reading its input in place on the wasm heap.
 *
 * tfjs-backend-wasm 4.22's Slice starts with `backend.readSync(x.dataId)`, which COPIES the whole input out of the
 * wasm heap into a new JavaScript buffer (`HEAPU8.slice`) before it copies the slice back in. Slicing a batch of
 * 256 crops out of a 40 MB chunk therefore copies 40 MB per batch: in a profile of the report's patches section
 * (`perf record -e page-faults`) 69% of the process's 1.5 million page faults came from that copy, and a quarter of
 * the section's CPU time was system time spent faulting the fresh buffers in (more with two worker threads in one
 * process, which share the address space). transferkit slices batches everywhere (`src/core/batches.ts`,
 * feature extraction, evaluation), so this is not only the patches' cost.
 *
 * This kernel takes a view of the input instead (`typedArrayFromHeap`, no copy) and copies the slice's innermost
 * contiguous runs as blocks. Slicing only moves values, so the result is bit-identical to the original's. Strings,
 * zero-sized slices and slices reaching past the input (which tfjs-core does not reject) go to the original kernel.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelEnv } from './scope.js';

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

let enabled = true;

/**
 * Switches the in-place slice on or off (off: the backend's own Slice runs). For the benchmark's before/after in
 * one run; returns the previous setting.
 *
 * @internal
 */
export function setSliceInPlace(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** The slice on the wasm heap, or undefined when the original kernel must run. */
export function sliceInPlace(
  env: KernelEnv,
  x: tf.TensorInfo,
  attrs: tf.SliceAttrs,
): tf.TensorInfo | undefined {
  if (!enabled || env.backendName !== 'wasm' || x.dtype === 'string' || x.dtype === 'complex64')
    return undefined;
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin, attrs.size);
  const total = size.reduce((a, d) => a * d, 1);
  if (total === 0) return undefined;
  // tfjs-core does not check the bounds (in production mode); never read past the input: the original decides.
  for (let d = 0; d < x.shape.length; d++) {
    if (!(begin[d] >= 0 && size[d] >= 0 && begin[d] + size[d] <= x.shape[d])) return undefined;
  }
  const rank = x.shape.length;
  // Element strides of every axis (tf.util.computeStrides leaves out the last one, which is 1).
  const strides = [...tf.util.computeStrides(x.shape), 1];
  const backend = env.backend as unknown as HeapBackend;
  const out = backend.makeOutput(size, x.dtype);
  // Views after the allocation: growing the wasm memory detaches older views.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (rank === 0) {
    dst[0] = src[0];
    return out;
  }
  // The innermost axes the slice takes whole form one contiguous run per position of the outer axes.
  let inner = rank - 1;
  let run = size[rank - 1];
  while (inner > 0 && begin[inner] === 0 && size[inner] === x.shape[inner]) {
    inner--;
    run *= size[inner];
  }
  // Odometer over the axes 0..inner-1 (the run starts at begin[inner] on axis `inner`).
  const outer = size.slice(0, inner);
  const count = outer.reduce((a, d) => a * d, 1);
  const pos = new Array<number>(inner).fill(0);
  let base = 0;
  for (let d = 0; d < rank; d++) base += begin[d] * strides[d];
  for (let k = 0; k < count; k++) {
    let offset = base;
    for (let d = 0; d < inner; d++) offset += pos[d] * strides[d];
    dst.set(src.subarray(offset, offset + run), k * run);
    for (let d = inner - 1; d >= 0; d--) {
      if (++pos[d] < outer[d]) break;
      pos[d] = 0;
    }
  }
  return out;
}
