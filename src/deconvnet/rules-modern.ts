/**
 * Projection rules for the layers of modern mobile and residual CNNs (MobileNet V1-V3, EfficientNet, ResNet):
 * depthwise and separable convolutions (also dilated), squeeze-excitation gates (`Multiply` with a `[N, 1, 1, C]`
 * gate), `Rescaling`, `UpSampling2D` and `LayerNormalization`. Registered by `rules.ts` beside the classic rules.
 *
 * Every rule here is the exact linear map of the layer's backward pass, except at ReLU-family units (`relu`,
 * `relu6` activations and the `ReLU` layer), where the strategy's rectifier applies (see `ProjectionStrategy`).
 * Other activations (sigmoid, tanh, swish, gelu...) pass their exact gradient in every strategy, as captum's
 * `Deconvolution`/`GuidedBackprop` (which override only the backward of `nn.ReLU` modules) and tf-keras-vis
 * (which replaces only the gradient of `relu`) do.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '../model/kinds.js';
import {
  type ActivationLike,
  type DeconvRule,
  type LayerGeometry,
  mulForward,
  pair,
  tileForward,
  windowGeometry,
} from './rule-kit.js';

interface DepthwiseLike {
  depthwiseKernel: { read(): tf.Tensor };
  pointwiseKernel?: { read(): tf.Tensor };
  bias?: { read(): tf.Tensor } | null;
  useBias: boolean;
  activation: ActivationLike;
  kernelSize: number | number[];
  strides: number | number[];
  padding: string;
  dilationRate: number | number[];
}

/**
 * The kernel `[kh, kw, ...]` with `d - 1` zeros inserted between taps: a convolution with it equals the dilated
 * convolution with `kernel` (same padding rule, as TensorFlow pads by the effective kernel size), and unlike the
 * dilated op it has a transposed op and a gradient in tfjs.
 */
export function dilateKernel(kernel: tf.Tensor4D, dilation: [number, number]): tf.Tensor4D {
  const [dh, dw] = dilation;
  if (dh === 1 && dw === 1) return kernel;
  const [kh, kw, a, b] = kernel.shape;
  const spread = tf.pad(tf.reshape(kernel, [kh, 1, kw, 1, a, b]), [
    [0, 0],
    [0, dh - 1],
    [0, 0],
    [0, dw - 1],
    [0, 0],
    [0, 0],
  ]);
  const full = tf.reshape(spread, [kh * dh, kw * dw, a, b]);
  return tf.slice(full, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, a, b]) as tf.Tensor4D;
}

/** Applies a conv-like layer's bias and activation to `z`; returns the output (pre-activation saved by caller). */
function biasActivation(l: DepthwiseLike, z: tf.Tensor): { z: tf.Tensor; out: tf.Tensor } {
  const zz = l.useBias && l.bias ? tf.add(z, l.bias.read()) : z;
  const name = l.activation.getClassName();
  const out = name === 'linear' ? zz : name === 'relu' ? tf.relu(zz) : l.activation.apply(zz);
  return { z: zz, out };
}

/**
 * The adjoint of a depthwise convolution (the input gradient), through the `DepthwiseConv2dNativeBackpropInput`
 * kernel (cpu has it; on wasm transferkit's `registerTrainingKernels('wasm')` provides it).
 */
function depthwiseAdjoint(
  g: tf.Tensor4D,
  kernel: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: [number, number],
  padding: string,
): tf.Tensor4D {
  const attrs = { strides, pad: padding, dilations: [1, 1], inputShape } as unknown as tf.NamedAttrMap;
  const inputs = { dy: g, filter: kernel };
  return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', inputs, attrs) as tf.Tensor4D;
}

/** DepthwiseConv2D (any depth multiplier, dilation): the activation's rule, then the depthwise adjoint. */
const depthwiseRule: DeconvRule = {
  forward: (layer, inputs) => {
    const l = layer as unknown as DepthwiseLike;
    const z = tf.depthwiseConv2d(
      inputs[0] as tf.Tensor4D,
      l.depthwiseKernel.read() as tf.Tensor4D,
      pair(l.strides, 1),
      l.padding as 'valid' | 'same',
      'NHWC',
      pair(l.dilationRate, 1),
    );
    const r = biasActivation(l, z);
    return { output: r.out, saved: [r.z] };
  },
  backward: ({ layer, inputs, saved, signal, activationBackward }) => {
    const l = layer as unknown as DepthwiseLike;
    const g = activationBackward(signal, saved[0], l.activation) as tf.Tensor4D;
    const [, h, w, c] = inputs[0].shape;
    const k = dilateKernel(l.depthwiseKernel.read() as tf.Tensor4D, pair(l.dilationRate, 1));
    return depthwiseAdjoint(g, k, [g.shape[0], h, w, c], pair(l.strides, 1), l.padding);
  },
  geometry: (layer, inputShape) => convGeometry(layer, inputShape),
};

/**
 * SeparableConv2D: the activation's rule, then the transposed pointwise filters (`P^T`, a matrix product), then the
 * depthwise adjoint.
 */
const separableRule: DeconvRule = {
  forward: (layer, inputs) => {
    const l = layer as unknown as DepthwiseLike;
    const z = tf.separableConv2d(
      inputs[0] as tf.Tensor4D,
      l.depthwiseKernel.read() as tf.Tensor4D,
      l.pointwiseKernel!.read() as tf.Tensor4D,
      pair(l.strides, 1),
      l.padding as 'valid' | 'same',
      pair(l.dilationRate, 1),
      'NHWC',
    );
    const r = biasActivation(l, z);
    return { output: r.out, saved: [r.z] };
  },
  backward: ({ layer, inputs, saved, signal, activationBackward }) => {
    const l = layer as unknown as DepthwiseLike;
    const g = activationBackward(signal, saved[0], l.activation) as tf.Tensor4D;
    const [b, ho, wo, co] = g.shape;
    const p = l.pointwiseKernel!.read(); // [1, 1, C*M, Co]
    const cm = p.shape[2] as number;
    // explicit transpose: wasm's transposed matMul is ~10x slower than transpose + plain matMul (FINDINGS.md)
    const pt = tf.transpose(tf.reshape(p, [cm, co]));
    const gd = tf.reshape(tf.matMul(tf.reshape(g, [-1, co]) as tf.Tensor2D, pt as tf.Tensor2D), [
      b,
      ho,
      wo,
      cm,
    ]);
    const [, h, w, c] = inputs[0].shape;
    const k = dilateKernel(l.depthwiseKernel.read() as tf.Tensor4D, pair(l.dilationRate, 1));
    return depthwiseAdjoint(gd as tf.Tensor4D, k, [b, h, w, c], pair(l.strides, 1), l.padding);
  },
  geometry: (layer, inputShape) => convGeometry(layer, inputShape),
};

function convGeometry(layer: Layer, inputShape: readonly (number | null)[]): LayerGeometry {
  const l = layer as unknown as DepthwiseLike;
  return windowGeometry(
    pair(l.kernelSize, 1),
    pair(l.strides, 1),
    l.padding,
    inputShape,
    pair(l.dilationRate, 1),
  );
}

/**
 * Sums `t` over the axes where the input had size 1 but `t` has more (undoes broadcasting), keeping the rank.
 * Axis 0 (the batch) is never reduced.
 */
function unbroadcast(t: tf.Tensor, inputShape: readonly number[]): tf.Tensor {
  const axes: number[] = [];
  for (let a = 1; a < t.rank; a++) if (inputShape[a] === 1 && t.shape[a] !== 1) axes.push(a);
  return axes.length === 0 ? t : tf.sum(t, axes, true);
}

/**
 * Multiply (e.g. the squeeze-excitation gate `x * s`, `s` of shape `[N, 1, 1, C]`): the product rule, the exact
 * gradient; each input receives the signal times the product of the other inputs (broadcast dims summed).
 */
const multiplyRule: DeconvRule = {
  backward: ({ inputs, signal, repeat }) =>
    inputs.map((x, i) => {
      let other: tf.Tensor | null = null;
      inputs.forEach((y, j) => {
        if (j !== i) other = other === null ? y : tf.mul(other, y);
      });
      const g = other === null ? signal : mulForward(signal, other, repeat);
      return unbroadcast(g, x.shape);
    }),
  geometry: () => ({ kind: 'identity' }),
};

/** Rescaling (`x * scale + offset`): the signal times `scale`. */
const rescalingRule: DeconvRule = {
  backward: ({ layer, signal }) => tf.mul(signal, (layer as unknown as { scale: number }).scale),
  geometry: () => ({ kind: 'identity' }),
};

/**
 * UpSampling2D: `'nearest'` sums each `size[0] x size[1]` block of the signal back onto its source pixel (the exact
 * adjoint); `'bilinear'` projects through the exact gradient of the resize. Geometry: global (an output position
 * maps to input position `floor(i / size)`, which the window model of receptive fields cannot express).
 */
const upSamplingRule: DeconvRule = {
  backward: ({ layer, inputs, signal, repeat }) => {
    const l = layer as unknown as { size: number[]; interpolation: string };
    const [, h, w, c] = inputs[0].shape;
    const b = signal.shape[0];
    if (l.interpolation === 'nearest') {
      return tf.sum(tf.reshape(signal, [b, h, l.size[0], w, l.size[1], c]), [2, 4]);
    }
    return tf.grad((x: tf.Tensor) => layer.apply(x, { training: false }) as tf.Tensor)(
      tileForward(inputs[0], repeat),
      signal,
    );
  },
  geometry: () => ({ kind: 'global' }),
};

/**
 * LayerNormalization: the exact vector-Jacobian product (it is not linear). Geometry: identity when it normalises
 * over the channel axis only (per pixel), global otherwise.
 */
const layerNormRule: DeconvRule = {
  backward: ({ layer, inputs, signal, repeat }) =>
    tf.grad((x: tf.Tensor) => layer.apply(x, { training: false }) as tf.Tensor)(
      tileForward(inputs[0], repeat),
      signal,
    ),
  geometry: (layer, inputShape) => {
    const axis = (layer as unknown as { axis: number | number[] }).axis;
    const rank = inputShape.length;
    const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a));
    return axes.every((a) => a === rank - 1) ? { kind: 'identity' } : { kind: 'global' };
  },
};

/**
 * The rules of this module by layer class (registered by `rules.ts`). A function, not a constant, so that the
 * import cycle with `rules.ts` resolves in either order.
 */
export function modernRules(): Record<string, DeconvRule> {
  return {
    DepthwiseConv2D: depthwiseRule,
    SeparableConv2D: separableRule,
    Multiply: multiplyRule,
    Rescaling: rescalingRule,
    UpSampling2D: upSamplingRule,
    LayerNormalization: layerNormRule,
  };
}
