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
 * On wasm a second method is used where it is faster: the same sum read as ONE matrix product
 *
 *     dW[(i, j, c), f] = cols[(i, j, c), (n, a, b)] . dy[(n, a, b), f],
 *
 * with `cols` (the im2col matrix of x, built directly in its transposed layout [FH*FW*C, N*OH*OW] by a JavaScript
 * pass over the wasm heap; zeros where a tap reads the padding) and `dy` as it is ([N*OH*OW, F], no copy). The
 * backend's matmul packs its right operand, here `dy`, in XNNPACK's own fast layout; the convolution method instead
 * hands the backend dy^T as a *filter* of [OH, OW, N, F], whose re-layout and packing cost ~4x the product itself for
 * a first layer (x [64, 28, 28, 1], 5x5x16: 5.3 ms with a fresh filter vs 1.1 ms with a cached one, measured). The
 * JavaScript pass costs ~1.5 ns per element of `cols`, so the matmul method wins when `cols` is small next to what the
 * convolution packs (FH*FW*C below ~3F: few input channels, as in a network's first layers); the choice is
 * {@link preferIm2col}. The sums are the same products added in another order: equal within float32 rounding.
 *
 * Where the native module runs (WebAssembly SIMD), NHWC gradients take a third method before both: `dW` computed
 * directly by a register-blocked SIMD loop (`tk_conv2d_filter_grad` in src/kernels/native/kernels.c: blocks of 4 rows
 * x 8 output channels accumulate in registers while they stream over one image's output positions), with no im2col
 * matrix and no packing; x is zero-padded first where the geometry has padding. Measured against the im2col method
 * (min of 10, same run): the zoo CNN's conv1 (x [64, 28, 28, 1], 5x5x1x16) 0.69 vs 1.42 ms, conv2 (x [64, 12, 12, 16],
 * 3x3x16x32) 1.43 vs 2.25 ms, x [32, 14, 14, 32] 3x3x32x64 4.35 vs 5.80 ms. Each output is one float32 running sum
 * over the positions in order.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { heapBackend, heapOffset, type NativeExports, nativeKernelOn, nativeKernels } from './native.js';
import { type KernelEnv, type KernelScope, withKernelScope } from './scope.js';

/**
 * Which method {@link conv2DBackpropFilterViaConv} uses on wasm: by the cost rule, or forced (tests, bench).
 * `'auto'` takes the native loop where it runs (switched off with `setNativeKernel('filterGrad', false)`), else the
 * cost rule {@link preferIm2col}; `'im2col'` and `'conv'` force the older methods.
 */
export type FilterGradMethod = 'auto' | 'native' | 'im2col' | 'conv';

let method: FilterGradMethod = 'auto';

/**
 * Forces the filter-gradient method on wasm (`'auto'`: {@link preferIm2col} decides). For the tests (both methods
 * against the oracle) and the `step` benchmark's before/after; returns the previous setting.
 *
 * @internal
 */
export function setFilterGradMethod(m: FilterGradMethod): FilterGradMethod {
  const was = method;
  method = m;
  return was;
}

/** Largest im2col matrix (floats) the matmul method builds: 64 MiB; larger ones take the convolution method. */
const MAX_COLS = 16 * 1024 * 1024;

/**
 * The cost rule: the matmul method when the im2col matrix (FH*FW*C rows) is below 3x the output channels, i.e. when
 * the JavaScript pass over `cols` (~1.5 ns per element) costs less than the re-layout and packing of dy^T as a
 * convolution filter (~5 ns per element of dy, measured on the zoo CNN's layers).
 */
export function preferIm2col(fh: number, fw: number, c: number, f: number, native = false): boolean {
  return fh * fw * c < (native ? NATIVE_IM2COL_FACTOR : 3) * f;
}

/**
 * The cost rule's factor when the im2col matrix is written natively (`tk_im2col_t`): the matmul method then won up to
 * FH*FW*C = 18F and lost at 36F (min CPU ms, load ~15, x [N, H, W, C] * 3x3: C = 16, F = 32: 2.5 vs 3.4 conv;
 * C = 32, F = 64: 18.0 vs 25.0; C = 64, F = 32: 14.4 vs 16.6; C = 128, F = 32: 16.2 vs 14.9).
 */
const NATIVE_IM2COL_FACTOR = 24;

/**
 * Writes the transposed im2col matrix of an NHWC `x` into `out` ([FH*FW*C, N*OH*OW], row `(i*FW + j)*C + c`, column
 * `(n*OH + a)*OW + b`): `x[n, a*sh + i - top, b*sw + j - left, c]`, or 0 where that position is in the padding.
 */
export function im2colTransposed(x: Float32Array, info: tf.backend_util.Conv2DInfo, out: Float32Array): void {
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const np = n * OH * OW;
  const step = sw * C;
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      // Output columns b whose input column b*sw + j - left lies inside [0, W).
      const bLo = Math.min(OW, Math.max(0, Math.ceil((left - j) / sw)));
      const bHi = Math.max(bLo, Math.min(OW, Math.floor((W - 1 - j + left) / sw) + 1));
      for (let c = 0; c < C; c++) {
        const row = ((i * fw + j) * C + c) * np;
        for (let b = 0; b < n; b++) {
          for (let a = 0; a < OH; a++) {
            const o = row + (b * OH + a) * OW;
            const xr = a * sh + i - top;
            if (xr < 0 || xr >= H) {
              out.fill(0, o, o + OW);
              continue;
            }
            if (bLo > 0) out.fill(0, o, o + bLo);
            if (bHi < OW) out.fill(0, o + bHi, o + OW);
            let src = ((b * H + xr) * W + bLo * sw + j - left) * C + c;
            for (let q = bLo; q < bHi; q++) {
              out[o + q] = x[src];
              src += step;
            }
          }
        }
      }
    }
  }
}

/** The matmul method (module comment); `x` and `dy` are NHWC float32 on the wasm heap. */
function viaIm2col(
  s: KernelScope,
  env: KernelEnv,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const backend = heapBackend(env.backend);
  const { batchSize: n, outHeight, outWidth, filterHeight: fh, filterWidth: fw, inChannels: c } = info;
  const f = info.outChannels;
  const k = fh * fw * c;
  const np = n * outHeight * outWidth;
  const cols = s.track(backend.makeOutput([1, k, np], 'float32'));
  const native = nativeKernelOn('im2col') ? nativeKernels(env.backend) : undefined;
  if (native !== undefined) {
    native.tk_im2col_t(
      heapOffset(env.backend, x),
      heapOffset(env.backend, cols),
      n,
      info.inHeight,
      info.inWidth,
      c,
      outHeight,
      outWidth,
      info.strideHeight,
      info.strideWidth,
      fh,
      fw,
      info.padInfo.top,
      info.padInfo.left,
    );
  } else {
    // Views after the allocation: growing the wasm memory detaches older views.
    im2colTransposed(backend.typedArrayFromHeap(x), info, backend.typedArrayFromHeap(cols));
  }
  const dy3 = s.run('Reshape', { x: dy }, { shape: [1, np, f] });
  const g = s.run('BatchMatMul', { a: cols, b: dy3 }, { transposeA: false, transposeB: false });
  return s.run('Reshape', { x: g }, { shape: [fh, fw, c, f] });
}

/**
 * Zero-pads the spatial axes of an NHWC float32 tensor natively (`tk_pad_hw`: row copies and fills; min of 30,
 * [64, 10, 10, 32] padded by 2: 0.04 ms vs the wasm backend's PadV2 0.21 ms; [64, 28, 28, 1] padded by 1: 0.02 vs
 * 0.76 ms). Returns `x` itself when every padding is 0; the padded tensor is tracked by `s`.
 */
export function padSpatialNative(
  s: KernelScope,
  env: KernelEnv,
  native: NativeExports,
  x: tf.TensorInfo,
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.TensorInfo {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  const [n, h, w, c] = x.shape;
  const backend = heapBackend(env.backend);
  const out = s.track(backend.makeOutput([n, top + h + bottom, left + w + right, c], 'float32'));
  native.tk_pad_hw(
    heapOffset(env.backend, x),
    heapOffset(env.backend, out),
    n,
    h,
    w,
    c,
    top,
    bottom,
    left,
    right,
  );
  return out;
}

/**
 * The native method (module comment): x zero-padded where the geometry has padding (rows and columns past the last
 * window are simply never read), then one call of `tk_conv2d_filter_grad` into a fresh [FH, FW, C, F] output.
 */
function viaNative(
  s: KernelScope,
  env: KernelEnv,
  native: NativeExports,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  bottom: number,
  right: number,
): tf.TensorInfo {
  const backend = heapBackend(env.backend);
  const { batchSize: n, inChannels: c, outHeight, outWidth, outChannels: f } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const xp = padSpatialNative(s, env, native, x, top, Math.max(bottom, 0), left, Math.max(right, 0));
  const out = s.track(backend.makeOutput([fh, fw, c, f], 'float32'));
  native.tk_conv2d_filter_grad(
    heapOffset(env.backend, xp),
    heapOffset(env.backend, dy),
    heapOffset(env.backend, out),
    n,
    xp.shape[1],
    xp.shape[2],
    c,
    outHeight,
    outWidth,
    sh,
    sw,
    fh,
    fw,
    f,
  );
  return out;
}

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
    const native = env.backendName === 'wasm' ? nativeKernels(env.backend) : undefined;
    const dyFits =
      dy.shape.length === 4 &&
      dy.shape[0] === n &&
      dy.shape[1] === outHeight &&
      dy.shape[2] === outWidth &&
      dy.shape[3] === f;
    if (
      native !== undefined &&
      dyFits &&
      fmt === 'channelsLast' &&
      (method === 'native' || (method === 'auto' && nativeKernelOn('filterGrad')))
    ) {
      return viaNative(s, env, native, x, dy, info, bottom, right);
    }
    if (
      env.backendName === 'wasm' &&
      fmt === 'channelsLast' &&
      method !== 'conv' &&
      (method === 'im2col' ||
        preferIm2col(fh, fw, c, f, nativeKernelOn('im2col') && nativeKernels(env.backend) !== undefined)) &&
      fh * fw * c * n * outHeight * outWidth <= MAX_COLS
    ) {
      return viaIm2col(s, env, x, dy, info);
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
