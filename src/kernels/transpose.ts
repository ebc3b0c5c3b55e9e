/**
 * `Transpose` of float32 tensors as a JavaScript pass over the wasm backend's memory, for the transposes inside
 * transferkit's composite training kernels (the explicit transposes of `BatchMatMul`, the layout changes of the
 * convolution gradients).
 *
 * tfjs-backend-wasm 4.22's own Transpose kernel moves one element at a time through a generic index computation:
 * in a profile of the student MLP's training step (784-800-800-10, batch 128) transposing the 800x800 weight for
 * the input gradient took 7-25 ms, longer than the forward matmul it serves (4.5 ms). Here the two innermost
 * output axes are walked in 32 x 32 tiles (both the reads and the writes stay within a few cache lines), and every
 * other axis by precomputed strides. A transpose only moves values, so the result is bit-identical to the
 * original kernel's.
 *
 * OFF by default since 2026-11-30: on this project's current machine (AMD EPYC, /proc/cpuinfo family 26) the wasm
 * Transpose kernel was faster on the training step's shapes (800x800: 0.5 vs 1.4 ms; dy [64, 24, 24, 16] to
 * [24, 24, 64, 16]: 0.36 vs 1.7 ms; min CPU time, interleaved), and the zoo CNN's step was faster with it (`step`
 * bench, docs/benchmarks.md). The earlier figures above came from another machine under heavy load. The switch
 * stays for the bench, which measures both in one run.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { heapBackend } from './native.js';
import type { KernelEnv } from './scope.js';

const TILE = 32;

let enabled = false;

/**
 * Switches the JavaScript transpose on or off (off: the backend's own Transpose kernel runs). For the `step`
 * benchmark's before/after comparison in one run; returns the previous setting.
 *
 * @internal
 */
export function setDirectTranspose(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/**
 * Writes `x` (row-major, of `shape`) permuted by `perm` into `out`: `out[i_0, ..., i_{r-1}]` =
 * `x[j]` with `j_{perm[k]} = i_k`, like `tf.transpose(x, perm)`.
 */
export function transposeInto(
  x: Float32Array,
  shape: readonly number[],
  perm: readonly number[],
  out: Float32Array,
): void {
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  let acc = 1;
  for (let k = rank - 1; k >= 0; k--) {
    inStrides[k] = acc;
    acc *= shape[k];
  }
  const outShape = perm.map((p) => shape[p]);
  // Input stride of each output axis.
  const strides = perm.map((p) => inStrides[p]);
  if (rank === 0 || acc === 0) {
    if (acc === 1) out[0] = x[0];
    return;
  }
  if (rank === 1) {
    out.set(x.subarray(0, acc));
    return;
  }
  const rows = outShape[rank - 2];
  const cols = outShape[rank - 1];
  const sRow = strides[rank - 2];
  const sCol = strides[rank - 1];
  const outer = acc / (rows * cols);
  const idx = new Array<number>(Math.max(rank - 2, 0)).fill(0);
  let base = 0;
  let o = 0;
  for (let b = 0; b < outer; b++) {
    if (sCol === 1) {
      for (let r = 0; r < rows; r++) {
        const src = base + r * sRow;
        for (let c = 0; c < cols; c++) out[o + c] = x[src + c];
        o += cols;
      }
    } else {
      for (let r0 = 0; r0 < rows; r0 += TILE) {
        const r1 = Math.min(rows, r0 + TILE);
        for (let c0 = 0; c0 < cols; c0 += TILE) {
          const c1 = Math.min(cols, c0 + TILE);
          for (let r = r0; r < r1; r++) {
            const dst = o + r * cols;
            const src = base + r * sRow;
            for (let c = c0; c < c1; c++) out[dst + c] = x[src + c * sCol];
          }
        }
      }
      o += rows * cols;
    }
    // Next outer index (odometer over the output axes 0..rank-3).
    for (let k = rank - 3; k >= 0; k--) {
      idx[k]++;
      base += strides[k];
      if (idx[k] < outShape[k]) break;
      base -= strides[k] * outShape[k];
      idx[k] = 0;
    }
  }
}

/** The transpose on the wasm heap, or undefined when the original kernel must run (other backends or dtypes). */
export function transposeDirect(
  env: KernelEnv,
  x: tf.TensorInfo,
  perm: readonly number[],
): tf.TensorInfo | undefined {
  if (!enabled || env.backendName !== 'wasm' || x.dtype !== 'float32' || perm.length !== x.shape.length)
    return undefined;
  const backend = heapBackend(env.backend);
  const out = backend.makeOutput(
    perm.map((p) => x.shape[p]),
    'float32',
  );
  // Views after the allocation: growing the wasm memory detaches older views.
  transposeInto(backend.typedArrayFromHeap(x), x.shape, perm, backend.typedArrayFromHeap(out));
  return out;
}
