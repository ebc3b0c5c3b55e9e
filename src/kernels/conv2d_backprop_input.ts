/**
 * `Conv2DBackpropInput` (the input gradient, a.k.a. transposed convolution) as ONE forward convolution.
 *
 * The input gradient of `y = conv2d(x, w)` (stride s, padding top/left p) is
 *
 *     dx[n, h, w, c] = sum over a, b, i, j, f with a*s_h + i - p_t = h and b*s_w + j - p_l = w of
 *                      dy[n, a, b, f] * W[i, j, c, f]
 *
 * which is a stride-1 convolution of dy, dilated by s (s - 1 zeros between neighbours) and padded by
 * FH - 1 - p_t on top (FW - 1 - p_l on the left), with the filter reversed in both spatial axes and its
 * in/out channels swapped ([FH, FW, F, C]). Negative paddings (possible with explicit or large paddings)
 * become crops. One call to the backend's optimised Conv2D replaces the original kernel's loops.
 *
 * On wasm, where the native module runs, that convolution is `tk_conv2d_valid` (src/kernels/native/kernels.c) over
 * the explicitly padded dy instead: a register-blocked SIMD loop (4 pixels x 8 channels of accumulators) that skips
 * the taps reading the zero rows of the padding. The backend's convolution repacks the filter on every call, and the
 * filter is new at every training step. Measured on the zoo CNN's conv2 input gradient (padded dy
 * [64, 14, 14, 32] * 3x3x32x16, min of 10, same run): 1.48 ms native vs 6.94 ms the backend's with a new filter
 * (2.80 ms with a filter it had packed before). The same products, added in another order: float32 tolerance.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { paddedConvNative } from './conv2d.js';
import { heapBackend, nativeKernelOn, nativeKernels } from './native.js';
import { dilateAndCrop, type KernelEnv, type KernelScope, withKernelScope } from './scope.js';

/** The filter reversed in both spatial axes with its in/out channels swapped: [FH, FW, F, C], by two kernels. */
function reverseSwap(s: KernelScope, filter: tf.TensorInfo): tf.TensorInfo {
  const reversed = s.run('Reverse', { x: filter }, { dims: [0, 1] });
  return s.run('Transpose', { x: reversed }, { perm: [0, 1, 3, 2] });
}

/**
 * {@link reverseSwap} as one JavaScript pass over the wasm heap (the filter is small; the two wasm kernels cost
 * ~0.3-0.4 ms each in a training step, measured on a loaded machine). The same values, moved.
 */
function reverseSwapOnHeap(s: KernelScope, env: KernelEnv, filter: tf.TensorInfo): tf.TensorInfo {
  const [fh, fw, c, f] = filter.shape;
  const backend = heapBackend(env.backend);
  const out = s.track(backend.makeOutput([fh, fw, f, c], 'float32'));
  // Views after the allocation: growing the wasm memory detaches older views.
  const src = backend.typedArrayFromHeap(filter);
  const dst = backend.typedArrayFromHeap(out);
  const tap = c * f;
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const from = ((fh - 1 - i) * fw + (fw - 1 - j)) * tap;
      const to = (i * fw + j) * tap;
      for (let ci = 0; ci < c; ci++) {
        for (let fi = 0; fi < f; fi++) dst[to + fi * c + ci] = src[from + ci * f + fi];
      }
    }
  }
  return out;
}

/** Computes the input gradient; returns `undefined` for a geometry it does not handle (caller falls back). */
export function conv2DBackpropInputViaConv(
  env: KernelEnv,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: tf.Conv2DBackpropInputAttrs,
): tf.TensorInfo | undefined {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const fmt = tf.backend_util.convertConv2DDataFormat(dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    fmt,
  );
  const { batchSize: n, inHeight, inWidth, outHeight, outWidth, outChannels: f } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  // Rows of the dilated dy, including the (s - 1) trailing zero rows the dilation by padding leaves behind.
  const zh = outHeight * sh;
  const zw = outWidth * sw;
  // Wanted padding around the dilated dy, whose real extent is (out - 1) * s + 1.
  const padTop = fh - 1 - info.padInfo.top;
  const padLeft = fw - 1 - info.padInfo.left;
  const padBottom = inHeight + fh - 1 - ((outHeight - 1) * sh + 1) - padTop - (sh - 1);
  const padRight = inWidth + fw - 1 - ((outWidth - 1) * sw + 1) - padLeft - (sw - 1);
  const cropTop = Math.max(-padTop, 0);
  const cropLeft = Math.max(-padLeft, 0);
  const keepH = zh - cropTop - Math.max(-padBottom, 0);
  const keepW = zw - cropLeft - Math.max(-padRight, 0);
  if (n * outHeight * outWidth === 0) {
    // No output position (tfjs's numeric padding can yield an empty dy): the gradient is zero.
    return withKernelScope(env, (s) => s.run('Fill', {}, { shape: inputShape, value: 0, dtype: 'float32' }));
  }
  if (keepH <= 0 || keepW <= 0) return undefined;
  return withKernelScope(env, (s) => {
    const nhwc = fmt === 'channelsFirst' ? s.run('Transpose', { x: dy }, { perm: [0, 2, 3, 1] }) : dy;
    const z = dilateAndCrop(s, nhwc, {
      n,
      oh: outHeight,
      ow: outWidth,
      ch: f,
      sh,
      sw,
      zh,
      zw,
      cropTop,
      cropLeft,
      keepH,
      keepW,
    });
    // The native loop reads dy as [n, outHeight, outWidth, f] (z above) and the filter as [fh, fw, C, f].
    const fits =
      z.shape.length === 4 && z.shape[0] === n && z.shape[3] === f && filter.shape[2] === info.inChannels;
    const native =
      fits && env.backendName === 'wasm' && nativeKernelOn('inputGrad')
        ? nativeKernels(env.backend)
        : undefined;
    const swapped = native !== undefined ? reverseSwapOnHeap(s, env, filter) : reverseSwap(s, filter);
    const explicit = [
      [0, 0],
      [Math.max(padTop, 0), Math.max(padBottom, 0)],
      [Math.max(padLeft, 0), Math.max(padRight, 0)],
      [0, 0],
    ];
    let dx: tf.TensorInfo;
    if (native !== undefined) {
      dx = paddedConvNative(
        s,
        env,
        native,
        z,
        swapped,
        explicit[1][0],
        explicit[1][1],
        explicit[2][0],
        explicit[2][1],
      );
    } else {
      dx = s.run(
        'Conv2D',
        { x: z, filter: swapped },
        { strides: [1, 1], pad: explicit, dataFormat: 'NHWC', dilations: [1, 1] },
      );
    }
    if (dx.shape[1] !== inHeight || dx.shape[2] !== inWidth) {
      throw new Error(
        `transferkit Conv2DBackpropInput: internal shape [${dx.shape.join(', ')}] differs from the input shape [${inputShape.join(', ')}].`,
      );
    }
    return fmt === 'channelsFirst' ? s.run('Transpose', { x: dx }, { perm: [0, 3, 1, 2] }) : dx;
  });
}
