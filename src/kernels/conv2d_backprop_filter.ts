/**
 * `Conv2DBackpropFilter` as ONE forward convolution over transposed tensors.
 *
 * The filter gradient of `y = conv2d(x, w)` (stride s, padding top/left p) is
 *
 *     dW[i, j, c, f] = sum over n, a, b of  x[n, a*s_h + i - p_t, b*s_w + j - p_l, c] * dy[n, a, b, f]
 *
 * Read `c` as a batch index, `n` as an input channel and `(a, b)` as a filter tap with dilation `s`: this is
 * `conv2d(x^T, dy^T)` with x^T = x transposed to [C, H, W, N] and dy^T = dy transposed to [OH, OW, N, F], stride 1,
 * dilation (s_h, s_w) and explicit padding (p_t, ., p_l, .); its output [C, FH, FW, F] transposed to
 * [FH, FW, C, F] is dW. Rows and columns of x that no output reads are cropped first, so the padding needed on
 * the bottom/right is never negative. One call to the backend's optimised Conv2D replaces the per-element
 * loops of the cpu kernel; the wasm backend has no Conv2DBackpropFilter at all.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type KernelEnv, withKernelScope } from './scope.js';

/**
 * Computes the filter gradient. Handles NHWC and NCHW, every padding (`'same'`, `'valid'`, a number, explicit
 * pairs), any strides and rounding mode: there is no configuration it has to hand back to the original kernel.
 */
export function conv2DBackpropFilterViaConv(
  env: KernelEnv,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: tf.Conv2DBackpropFilterAttrs,
): tf.TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const fmt = tf.backend_util.convertConv2DDataFormat(dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    fmt,
  );
  const { batchSize: n, inHeight, inWidth, inChannels: c, outHeight, outWidth, outChannels: f } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Padded extent the gradient reads: top + rows + bottom = (outHeight - 1) * sh + fh.
  const bottom = (outHeight - 1) * sh + fh - inHeight - top;
  const right = (outWidth - 1) * sw + fw - inWidth - left;
  return withKernelScope(env, (s) => {
    if (n * outHeight * outWidth === 0) {
      // No output position (tfjs's numeric padding can yield an empty dy): the gradient is zero.
      return s.run('Fill', {}, { shape: [fh, fw, c, f], value: 0, dtype: 'float32' });
    }
    let xh = x;
    let dyh = dy;
    if (fmt === 'channelsFirst') {
      xh = s.run('Transpose', { x }, { perm: [0, 2, 3, 1] });
      dyh = s.run('Transpose', { x: dy }, { perm: [0, 2, 3, 1] });
    }
    if (bottom < 0 || right < 0) {
      // Rows/columns past the last window are never read: crop them instead of padding negatively.
      xh = s.run(
        'Slice',
        { x: xh },
        { begin: [0, 0, 0, 0], size: [n, inHeight + Math.min(bottom, 0), inWidth + Math.min(right, 0), c] },
      );
    }
    const xt = s.run('Transpose', { x: xh }, { perm: [3, 1, 2, 0] }); // [C, H, W, N]
    const dyt = s.run('Transpose', { x: dyh }, { perm: [1, 2, 0, 3] }); // [OH, OW, N, F]
    const explicit = [
      [0, 0],
      [top, Math.max(bottom, 0)],
      [left, Math.max(right, 0)],
      [0, 0],
    ];
    const g = s.run(
      'Conv2D',
      { x: xt, filter: dyt },
      { strides: [1, 1], pad: explicit, dataFormat: 'NHWC', dilations: [sh, sw] },
    ); // [C, FH, FW, F]
    const out = s.run('Transpose', { x: g }, { perm: [1, 2, 0, 3] });
    if (out.shape[0] !== fh || out.shape[1] !== fw || out.shape[2] !== c || out.shape[3] !== f) {
      throw new Error(
        `transferkit Conv2DBackpropFilter: internal shape [${out.shape.join(', ')}] differs from the filter shape [${filterShape.join(', ')}] (batch ${n}).`,
      );
    }
    return out;
  });
}
