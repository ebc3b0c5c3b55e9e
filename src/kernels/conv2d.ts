/**
 * `Conv2D` (the unfused forward convolution of a training step) on the native module.
 *
 * While gradients are recorded, tfjs-core does not fuse a conv layer's bias and activation
 * (`fused.conv2d` runs Conv2D + Add + Relu), so every training step calls the plain `Conv2D` kernel with a filter
 * that changed since the last step: tfjs-backend-wasm's XNNPACK convolution then packs the filter anew on every call.
 * The native loop (`tk_conv2d_valid` in src/kernels/native/kernels.c, blocks of 4 pixels x 8 output channels in
 * registers, stride 1) needs no packing; x is zero-padded natively first where the geometry has padding. Measured on
 * the zoo CNN's layers (min of 10 per run, a new filter each call, two runs on a loaded machine): conv1
 * (x [64, 28, 28, 1], 5x5x1x16) 0.84 / 1.36 ms vs the backend's 1.12 / 1.86 ms, conv2 (x [64, 12, 12, 16],
 * 3x3x16x32) 2.07 / 1.25 vs 2.16 / 4.58 ms; x [32, 16, 16, 32] 3x3x32x64 a tie (5.67 vs 5.94 ms).
 * Each output is one float32 running sum over (i, j, c) in order: equal to the backend's within float32 rounding.
 *
 * Applies to NHWC float32, stride 1, dilation 1, and filters up to {@link NATIVE_CONV_MAX_FILTER} floats (the
 * filter streams through the cache for every block of pixels; larger filters, other strides, dilations and NCHW go
 * to the original kernel).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { padSpatialNative } from './conv2d_backprop_filter.js';
import { heapBackend, heapOffset, type NativeExports, nativeKernelOn, nativeKernels } from './native.js';
import { type KernelEnv, type KernelScope, withKernelScope } from './scope.js';

/** Largest filter (FH*FW*C*F floats, 256 KiB) the native forward convolution takes. */
export const NATIVE_CONV_MAX_FILTER = 64 * 1024;

function pair(v: number | [number, number] | undefined): [number, number] {
  if (v === undefined) return [1, 1];
  return typeof v === 'number' ? [v, v] : v;
}

/** The forward convolution on the native module, or undefined where it does not apply (module comment). */
export function conv2DNative(
  env: KernelEnv,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: tf.Conv2DAttrs,
): tf.TensorInfo | undefined {
  if (env.backendName !== 'wasm' || !nativeKernelOn('conv2d')) return undefined;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4) return undefined;
  if (tf.backend_util.convertConv2DDataFormat(attrs.dataFormat) !== 'channelsLast') return undefined;
  const [sh, sw] = pair(attrs.strides);
  const [dh, dw] = pair(attrs.dilations);
  if (sh !== 1 || sw !== 1 || dh !== 1 || dw !== 1) return undefined;
  const [fh, fw, c, f] = filter.shape;
  if (fh * fw * c * f > NATIVE_CONV_MAX_FILTER) return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    1,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { top, bottom, left, right } = info.padInfo;
  const ph = info.inHeight + top + bottom;
  const pw = info.inWidth + left + right;
  // Only geometries whose output is exactly the valid convolution of the padded input (no negative padding).
  if (top < 0 || bottom < 0 || left < 0 || right < 0) return undefined;
  if (ph - fh + 1 !== info.outHeight || pw - fw + 1 !== info.outWidth || info.inChannels !== c)
    return undefined;
  if (info.batchSize * info.outHeight * info.outWidth * f === 0) return undefined;
  const native = nativeKernels(env.backend);
  if (native === undefined) return undefined;
  return withKernelScope(env, (s) => paddedConvNative(s, env, native, x, filter, top, bottom, left, right));
}

/**
 * `x` ([N, H, W, C], float32 on the wasm heap) zero-padded by `top`, `bottom`, `left`, `right`, then convolved with
 * stride 1, 'valid', by `filter` ([FH, FW, C, F]) in one call of `tk_conv2d_valid` (which skips the taps that read
 * the padding's zero rows). Returns the [N, H + top + bottom - FH + 1, W + left + right - FW + 1, F] output; the
 * padded copy and the output are tracked by `s`. The forward convolution and the input gradient both run this.
 */
export function paddedConvNative(
  s: KernelScope,
  env: KernelEnv,
  native: NativeExports,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.TensorInfo {
  const xp = padSpatialNative(s, env, native, x, top, bottom, left, right);
  const [n, ph, pw, c] = xp.shape;
  const [fh, fw, , f] = filter.shape;
  const out = s.track(heapBackend(env.backend).makeOutput([n, ph - fh + 1, pw - fw + 1, f], 'float32'));
  native.tk_conv2d_valid(
    heapOffset(env.backend, xp),
    heapOffset(env.backend, filter),
    heapOffset(env.backend, out),
    n,
    ph,
    pw,
    c,
    fh,
    fw,
    f,
    top,
    bottom,
  );
  return out;
}
