/**
 * `MaxPoolGrad` for non-overlapping windows (stride >= window, the 2x2/stride-2 pools of classic conv nets) as one
 * pass over the backend's memory: each window's arg-max is found once and its `dy` lands there.
 *
 * The wasm backend's own kernel (tfjs-backend-wasm 4.22) finds the arg-max of every window, then visits every
 * `dx` element and compares it with the arg-max of each window covering it; in a profiled training step of the zoo
 * CNN it took a third of the step (docs/benchmarks.md). This kernel reproduces the original's results bit for
 * bit, ties and degenerate windows included, because for non-overlapping windows every `dx` element receives at
 * most one `dy` (no summation order to match). On wasm it follows the wasm kernel's rules:
 *
 * - the running maximum starts at the smallest positive normal float32 (`FLT_MIN`, 2^-126), not at -infinity,
 *   with the arg-max at flat offset 0 of `x`;
 * - a value replaces it when `value >= max`, so among equal values the LAST one in row-major window order wins;
 * - a window with no value >= `FLT_MIN` (all zero after a ReLU, or all negative) keeps offset 0: its `dy` lands on
 *   `dx[0]` when that element lies inside the window (the first window of image 0, channel 0), else nowhere;
 * - a non-finite `dy` (NaN, +-Inf) multiplies the 0/1 mask of its window: NaN on the other elements, as `dy * 0`.
 *
 * On cpu it follows the cpu kernel's: the maximum starts at -infinity, a value replaces it when `value > max` (the
 * FIRST of equal values wins), a window without any such value (all NaN) routes nothing, and a non-finite `dy`
 * reaches its arg-max only (the cpu kernel skips masked-out elements).
 *
 * Overlapping windows (e.g. 3x3 with stride 2) sum several `dy` per element in the original's order: those go to
 * the original kernel.
 *
 * On wasm the loop runs natively where it can (`tk_max_pool_grad` in src/kernels/native/kernels.c: four channels per
 * SIMD vector, a float comparison against a running maximum that starts at FLT_MIN, which picks the same winners as
 * the bit-pattern keys below; one pass without a zeroing pass where the windows tile x exactly; in place on the
 * backend's memory), else in JavaScript below; both give the original's bits.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { heapBackend, heapOffset, nativeKernelOn, nativeKernels } from './native.js';
import type { KernelEnv } from './scope.js';

/** The smallest positive normal float32, where the wasm kernel's running maximum starts. */
const FLT_MIN = 2 ** -126;

interface CpuBackend {
  readSync(dataId: tf.DataId): Float32Array;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

/**
 * The pooling geometry, or undefined when the windows overlap (or the layout is not float32 NHWC) and the
 * original kernel must run.
 */
export function nonOverlappingPool(
  input: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: tf.MaxPoolGradAttrs,
): tf.backend_util.Conv2DInfo | undefined {
  if (input.dtype !== 'float32' || dy.dtype !== 'float32' || input.shape.length !== 4) return undefined;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (info.strideHeight < info.effectiveFilterHeight || info.strideWidth < info.effectiveFilterWidth) {
    return undefined;
  }
  const expected = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expected[i])) return undefined;
  return info;
}

/** Whose tie and degenerate-window rules to follow (see the module comment). */
export type MaxPoolRule = 'wasm' | 'cpu';

let keyCompare = true;

/**
 * Switches the branch-free comparison of the wasm rule on or off (off: a comparison and a branch per element, as
 * before; same results). For the tests and the `step` benchmark's before/after; returns the previous setting.
 *
 * @internal
 */
export function setMaxPoolKeyCompare(on: boolean): boolean {
  const was = keyCompare;
  keyCompare = on;
  return was;
}

/** Scratch of {@link maxPoolGradInto}: per-channel running maxima and arg-maxima of one window. */
let bestScratch = new Float32Array(0);
let keyScratch = new Int32Array(0);
let argScratch = new Int32Array(0);

/** float32 bits of `FLT_MIN` (2^-126) and of +infinity. */
const FLT_MIN_BITS = 0x00800000;
const INF_BITS = 0x7f800000;

/**
 * Fills `dx` (zeroed, NHWC like `x`) with the routed `dy`; see the module comment for the exact rules.
 *
 * The loops walk one window at a time with the channels innermost (`x` is NHWC, so every read and write is
 * contiguous): each channel keeps its own running maximum, updated in the window's row-major order, which is the
 * order of the original kernels, so the arg-max (and the tie rules) are the same.
 *
 * Under the wasm rule the comparison runs on the float32 bit patterns, without a branch: only values >= `FLT_MIN`
 * can win there, i.e. positive normal floats and +infinity, whose bit patterns as int32 are ordered like the values;
 * every other value (zeros, negatives, denormals, NaN) is mapped to -1, which never wins. A data-dependent branch per
 * element (ties of zeros after a ReLU, random signs) mispredicts about half the time; this loop ran ~2x faster on
 * the CNN's pooling shapes (`x` [64, 24, 24, 16]).
 */
export function maxPoolGradInto(
  x: Float32Array,
  dyv: Float32Array,
  dx: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  rule: MaxPoolRule,
): void {
  const wasm = rule === 'wasm';
  const keys = wasm && keyCompare;
  const start = wasm ? FLT_MIN : Number.NEGATIVE_INFINITY;
  const none = wasm ? 0 : -1;
  const { batchSize, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW } = info;
  const C = info.inChannels;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  if (bestScratch.length < C) {
    bestScratch = new Float32Array(C);
    keyScratch = new Int32Array(C);
    argScratch = new Int32Array(C);
  }
  const best = bestScratch;
  const bestKey = keyScratch;
  const arg = argScratch;
  const xi = new Int32Array(x.buffer, x.byteOffset, x.length);
  for (let b = 0; b < batchSize; b++) {
    for (let r = 0; r < OH; r++) {
      const r0 = r * sh - top;
      const rMin = Math.max(r0, 0);
      const rMax = Math.min(H, r0 + fh);
      for (let q = 0; q < OW; q++) {
        const c0 = q * sw - left;
        const cMin = Math.max(c0, 0);
        const cMax = Math.min(W, c0 + fw);
        const dyBase = ((b * OH + r) * OW + q) * C;
        for (let ch = 0; ch < C; ch++) {
          best[ch] = start;
          bestKey[ch] = FLT_MIN_BITS;
          arg[ch] = none;
        }
        for (let xr = rMin; xr < rMax; xr++) {
          const rowBase = (b * H + xr) * W;
          for (let xc = cMin; xc < cMax; xc++) {
            const o = (rowBase + xc) * C;
            if (keys) {
              for (let ch = 0; ch < C; ch++) {
                const bits = xi[o + ch];
                // -1 for NaN (bits above +inf's) and for negative bit patterns; the bits otherwise.
                let k = bits | ((INF_BITS - bits) >> 31);
                k |= k >> 31;
                const d = k - bestKey[ch];
                const win = (d >> 31) + 1; // 1 when k >= the running maximum's key
                bestKey[ch] += win * d;
                arg[ch] += win * (o + ch - arg[ch]);
              }
            } else if (wasm) {
              for (let ch = 0; ch < C; ch++) {
                const v = x[o + ch];
                if (v >= best[ch]) {
                  best[ch] = v;
                  arg[ch] = o + ch;
                }
              }
            } else {
              for (let ch = 0; ch < C; ch++) {
                const v = x[o + ch];
                if (v > best[ch]) {
                  best[ch] = v;
                  arg[ch] = o + ch;
                }
              }
            }
          }
        }
        // Offset 0 (image 0, row 0, column 0, channel 0) is inside only the window over image 0's corner.
        const zeroInside = b === 0 && rMin === 0 && cMin === 0 && rMax > 0 && cMax > 0;
        for (let ch = 0; ch < C; ch++) {
          const p = arg[ch];
          const g = dyv[dyBase + ch];
          if (!wasm) {
            // cpu: p = -1 when nothing won (an all-NaN window).
            if (p >= 0) dx[p] += g;
            continue;
          }
          // wasm: p = 0 with the maximum still FLT_MIN is the default offset (or x[0] = FLT_MIN won: inside then).
          const atStart = keys ? bestKey[ch] === FLT_MIN_BITS : best[ch] === FLT_MIN;
          const inside = p !== 0 || !atStart || (zeroInside && ch === 0);
          if (Number.isFinite(g)) {
            if (inside) dx[p] += g;
          } else {
            for (let xr = rMin; xr < rMax; xr++) {
              for (let xc = cMin; xc < cMax; xc++) {
                const o = ((b * H + xr) * W + xc) * C + ch;
                dx[o] += g * (inside && o === p ? 1 : 0);
              }
            }
          }
        }
      }
    }
  }
}

/**
 * MaxPoolGrad of non-overlapping windows on the wasm or cpu backend, or undefined when the original kernel must
 * run (overlapping windows, other dtypes).
 */
export function maxPoolGradDirect(
  env: KernelEnv,
  dy: tf.TensorInfo,
  input: tf.TensorInfo,
  attrs: tf.MaxPoolGradAttrs,
): tf.TensorInfo | undefined {
  const info = nonOverlappingPool(input, dy, attrs);
  if (info === undefined) return undefined;
  if (env.backendName === 'wasm') {
    const backend = heapBackend(env.backend);
    const out = backend.makeOutput([...input.shape], 'float32');
    const native = nativeKernelOn('maxPoolGrad') ? nativeKernels(env.backend) : undefined;
    if (native !== undefined) {
      native.tk_max_pool_grad(
        heapOffset(env.backend, input),
        heapOffset(env.backend, dy),
        heapOffset(env.backend, out),
        info.batchSize,
        info.inHeight,
        info.inWidth,
        info.inChannels,
        info.outHeight,
        info.outWidth,
        info.effectiveFilterHeight,
        info.effectiveFilterWidth,
        info.strideHeight,
        info.strideWidth,
        info.padInfo.top,
        info.padInfo.left,
      );
      return out;
    }
    // Views after the allocation: growing the wasm memory detaches older views.
    const dx = backend.typedArrayFromHeap(out);
    dx.fill(0);
    maxPoolGradInto(backend.typedArrayFromHeap(input), backend.typedArrayFromHeap(dy), dx, info, 'wasm');
    return out;
  }
  if (env.backendName === 'cpu') {
    const backend = env.backend as unknown as CpuBackend;
    const dx = new Float32Array(input.shape.reduce((a, d) => a * d, 1));
    maxPoolGradInto(backend.readSync(input.dataId), backend.readSync(dy.dataId), dx, info, 'cpu');
    return backend.makeTensorInfo([...input.shape], 'float32', dx);
  }
  return undefined;
}
