/**
 * Depthwise convolution gradients (for MobileNet-style fine-tuning), which the wasm backend lacks as shipped.
 *
 * With x [N, H, W, C], filter W [FH, FW, C, M], dy [N, OH, OW, C*M], stride s, dilation d, padding top/left p:
 *
 *     dW[i, j, c, m] = sum over n, a, b of  x[n, a*s_h + i*d_h - p_t, b*s_w + j*d_w - p_l, c] * dy[n, a, b, c*M + m]
 *     dx[n, h, w, c] = sum over a, b, i, j, m with a*s_h + i*d_h - p_t = h (and likewise for w) of
 *                      dy[n, a, b, c*M + m] * W[i, j, c, m]
 *
 * The filter gradient is computed tap by tap: for each of the FH*FW taps, the strided window of the padded x
 * times dy, summed over the P = N*OH*OW positions by a [1, P] x [P, C*M] matmul with ones (no im2col copy of
 * x). The input gradient is one depthwise convolution of the stride-dilated, padded dy with the spatially
 * reversed filter (dilation d) over C*M channels, then a sum over the M multipliers ([.., M] x [M, 1] matmul).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { dilateAndCrop, type KernelAttrs, type KernelEnv, withKernelScope } from './scope.js';

function convInfo(
  inShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: {
    strides: [number, number] | number;
    dilations: [number, number] | number;
    pad: unknown;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  },
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inShape,
    filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad as 'same',
    attrs.dimRoundingMode,
    true,
  );
}

/**
 * The filter gradient of a depthwise convolution (NHWC, any strides, dilations and padding), tap by tap.
 *
 * Tap (i, j)'s window of x, [N, OH, OW, C] with the padding's zeros, is the depthwise convolution of x with a
 * one-hot filter at (i, j) under the original strides, dilations and padding: one optimised backend call, no
 * slicing (the wasm backend slices in JavaScript after copying the whole input). Then window * dy, summed
 * over the N*OH*OW positions.
 */
export function depthwiseBackpropFilterViaTaps(
  env: KernelEnv,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: tf.DepthwiseConv2dNativeBackpropFilterAttrs,
): tf.TensorInfo {
  const filterShape = attrs.filterShape;
  const info = convInfo(x.shape as [number, number, number, number], filterShape, attrs);
  const { batchSize: n, inHeight, inWidth, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const [fh, fw, , m] = filterShape;
  const p = n * oh * ow;
  const backend = env.backend;
  // Depthwise kernels refuse strides > 1 together with dilations > 1 (tfjs's ops never produce it): then
  // extract at stride 1 and keep every s-th row/column. Padding is passed explicitly, sized so that the
  // extraction covers exactly the rows dy has (tfjs's numeric padding sizes outputs by the filter height only).
  const subsample = (sh > 1 || sw > 1) && (dh > 1 || dw > 1);
  const es = subsample ? [1, 1] : [sh, sw];
  const needH = (oh - 1) * sh + 1; // rows of the extraction that are read, at stride es
  const needW = (ow - 1) * sw + 1;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const bottom = Math.max(0, (oh - 1) * sh + (fh - 1) * dh + 1 - inHeight - top);
  const right = Math.max(0, (ow - 1) * sw + (fw - 1) * dw + 1 - inWidth - left);
  const extractAttrs: KernelAttrs = {
    strides: es,
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
    dilations: [dh, dw],
  };
  return withKernelScope(env, (s) => {
    if (p === 0) return s.run('Fill', {}, { shape: filterShape, value: 0, dtype: 'float32' });
    const dyFlat = s.run('Reshape', { x: dy }, { shape: m === 1 ? [p, c] : [p, c, m] });
    const rows: tf.TensorInfo[] = [];
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        const hot = new Float32Array(fh * fw * c);
        hot.fill(1, (i * fw + j) * c, (i * fw + j + 1) * c);
        const shape = [fh, fw, c, 1];
        const oneHot = s.track({ dataId: backend.write(hot, shape, 'float32'), shape, dtype: 'float32' });
        let win = s.run('DepthwiseConv2dNative', { x, filter: oneHot }, extractAttrs); // [N, >=OH, >=OW, C]
        if (subsample) {
          win = s.run(
            'StridedSlice',
            { x: win },
            {
              begin: [0, 0, 0, 0],
              end: [n, needH, needW, c],
              strides: [1, sh, sw, 1],
              beginMask: 0,
              endMask: 0,
              ellipsisMask: 0,
              newAxisMask: 0,
              shrinkAxisMask: 0,
            },
          );
        } else if (win.shape[1] !== oh || win.shape[2] !== ow) {
          win = s.run('Slice', { x: win }, { begin: [0, 0, 0, 0], size: [n, oh, ow, c] });
        }
        const winFlat = s.run('Reshape', { x: win }, { shape: m === 1 ? [p, c] : [p, c, 1] });
        const prod = s.run('Multiply', { a: winFlat, b: dyFlat });
        const prod2 = s.run('Reshape', { x: prod }, { shape: [p, c * m] });
        rows.push(s.run('Sum', { x: prod2 }, { axis: [0], keepDims: true }));
      }
    }
    const stacked =
      rows.length === 1 ? rows[0] : s.run('Concat', rows as unknown as tf.NamedTensorInfoMap, { axis: 0 });
    // Reshapes share the buffer of `stacked`; the backend's reference counts keep it alive for the output.
    return s.run('Reshape', { x: stacked }, { shape: filterShape });
  });
}

/** The input gradient of a depthwise convolution (NHWC); `undefined` for a geometry it does not handle. */
export function depthwiseBackpropInputViaConv(
  env: KernelEnv,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: tf.DepthwiseConv2dNativeBackpropInputAttrs,
): tf.TensorInfo | undefined {
  const inputShape = attrs.inputShape;
  const filterShape = filter.shape as [number, number, number, number];
  const info = convInfo(inputShape, filterShape, attrs);
  const { batchSize: n, inHeight, inWidth, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const [fh, fw, , m] = filterShape;
  const feh = (fh - 1) * dh + 1;
  const few = (fw - 1) * dw + 1;
  const zh = oh * sh;
  const zw = ow * sw;
  const padTop = feh - 1 - info.padInfo.top;
  const padLeft = few - 1 - info.padInfo.left;
  const padBottom = inHeight + feh - 1 - ((oh - 1) * sh + 1) - padTop - (sh - 1);
  const padRight = inWidth + few - 1 - ((ow - 1) * sw + 1) - padLeft - (sw - 1);
  const cropTop = Math.max(-padTop, 0);
  const cropLeft = Math.max(-padLeft, 0);
  const keepH = zh - cropTop - Math.max(-padBottom, 0);
  const keepW = zw - cropLeft - Math.max(-padRight, 0);
  if (n * oh * ow === 0) {
    return withKernelScope(env, (s) => s.run('Fill', {}, { shape: inputShape, value: 0, dtype: 'float32' }));
  }
  if (keepH <= 0 || keepW <= 0) return undefined;
  const cm = c * m;
  return withKernelScope(env, (s) => {
    const z = dilateAndCrop(s, dy, { n, oh, ow, ch: cm, sh, sw, zh, zw, cropTop, cropLeft, keepH, keepW });
    const reversed = s.run('Reverse', { x: filter }, { dims: [0, 1] });
    const perChannel = s.run('Reshape', { x: reversed }, { shape: [fh, fw, cm, 1] });
    const explicit = [
      [0, 0],
      [Math.max(padTop, 0), Math.max(padBottom, 0)],
      [Math.max(padLeft, 0), Math.max(padRight, 0)],
      [0, 0],
    ];
    const conv = s.run(
      'DepthwiseConv2dNative',
      { x: z, filter: perChannel },
      { strides: [1, 1], pad: explicit, dilations: [dh, dw] },
    ); // [N, H, W, C*M]
    if (conv.shape[1] !== inHeight || conv.shape[2] !== inWidth) {
      throw new Error(
        `transferkit DepthwiseConv2dNativeBackpropInput: internal shape [${conv.shape.join(', ')}] differs from the input shape [${inputShape.join(', ')}].`,
      );
    }
    if (m === 1) return conv;
    const rows = s.run('Reshape', { x: conv }, { shape: [n * inHeight * inWidth * c, m] });
    const ones = s.run('Fill', {}, { shape: [m, 1], value: 1, dtype: 'float32' });
    const summed = s.run('BatchMatMul', { a: rows, b: ones }, { transposeA: false, transposeB: false });
    return s.run('Reshape', { x: summed }, { shape: inputShape });
  });
}
