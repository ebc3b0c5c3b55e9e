/**
 * Projection rules: how each layer class maps a signal at its output back to its input, and the registry that
 * lets a user add rules for layers of their own.
 *
 * Zeiler & Fergus (2013), section 2.1: the deconvnet inverts each layer with the same components in reverse:
 * unpooling with the recorded switches, rectification of the reconstructed signal (ReLU), and filtering with the
 * transposed (flipped) filters of the layer. This module implements those operations and, for every other layer, the
 * exact linear map the layer's backward pass applies (Dense: `W^T`, BatchNormalization: `gamma / sqrt(var + eps)`,
 * Flatten: reshape...). Only the rule for ReLU differs between strategies (see {@link ProjectionStrategy}).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, UnsupportedLayerError } from '../core/index.js';
import type { Layer } from '../model/kinds.js';
import {
  type ActivationLike,
  type ConvLike,
  checkChannelsLast,
  type DeconvRule,
  gradientRule,
  pair,
  rectifyWith,
  windowGeometry,
} from './rule-kit.js';
import { dilateKernel, modernRules } from './rules-modern.js';
import { poolingRules } from './rules-pooling.js';

export {
  type ActivationLike,
  type DeconvBackwardArgs,
  type DeconvForwardResult,
  type DeconvRule,
  gradientRule,
  type LayerGeometry,
  makeBackwardArgs,
  mulForward,
  PROJECTION_STRATEGIES,
  type ProjectionStrategy,
  padStart,
  pair,
  rectifyWith,
  tileForward,
  windowGeometry,
} from './rule-kit.js';
export { cropHW, maxPoolWithSwitches, unpool, unpoolWindows } from './rules-pooling.js';

const registry = new Map<string, DeconvRule>();

/**
 * Registers (or replaces) the projection rule for the layer class `className` (what `layer.getClassName()`
 * returns). Built-in rules can be replaced too.
 *
 * @example
 * ```ts
 * // any differentiable custom layer: project through its exact gradient
 * registerDeconvRule('MyGelu', gradientRule);
 * ```
 */
export function registerDeconvRule(className: string, rule: DeconvRule): void {
  if (typeof className !== 'string' || className.length === 0) {
    throw new InvalidArgumentError(
      'registerDeconvRule',
      'className',
      'a non-empty layer class name',
      className,
    );
  }
  if (typeof rule !== 'object' || rule === null || typeof rule.backward !== 'function') {
    throw new InvalidArgumentError('registerDeconvRule', 'rule', 'an object with a backward() method', rule);
  }
  registry.set(className, rule);
}

/**
 * The rule registered for `className`, or `undefined`.
 *
 * @example
 * ```ts
 * getDeconvRule('Conv2D') !== undefined; // true
 * ```
 */
export function getDeconvRule(className: string): DeconvRule | undefined {
  return registry.get(className);
}

/**
 * The layer classes that have a projection rule, sorted.
 *
 * @example
 * ```ts
 * registeredDeconvLayers().includes('MaxPooling2D'); // true
 * ```
 */
export function registeredDeconvLayers(): string[] {
  return [...registry.keys()].sort();
}

/** Throws {@link UnsupportedLayerError} unless the layer's class has a rule. */
export function ruleFor(fn: string, layer: Layer): DeconvRule {
  const rule = registry.get(layer.getClassName());
  if (rule === undefined) {
    throw new UnsupportedLayerError(
      fn,
      layer.name,
      layer.getClassName(),
      `Register a projection rule for it with registerDeconvRule('${layer.getClassName()}', rule) ` +
        '(gradientRule projects through its exact gradient). Supported: ' +
        `${registeredDeconvLayers().join(', ')}.`,
    );
  }
  return rule;
}

// ---------------------------------------------------------------------------------------------------------------
// built-in rules (pooling and padding: rules-pooling.ts; modern layers: rules-modern.ts)

const identityRule: DeconvRule = {
  forward: (_layer, inputs) => ({ output: inputs[0] }),
  backward: ({ signal }) => signal,
  geometry: () => ({ kind: 'identity' }),
};

/** Conv2D: forward keeps the pre-activation; backward is the activation's rule then the transposed filters. */
const conv2dRule: DeconvRule = {
  forward: (layer, inputs) => {
    const l = layer as unknown as ConvLike;
    const dilation = pair(l.dilationRate, 1);
    let z = tf.conv2d(
      inputs[0] as tf.Tensor4D,
      l.kernel.read() as tf.Tensor4D,
      pair(l.strides, 1),
      l.padding as 'valid' | 'same',
      'NHWC',
      dilation,
    ) as tf.Tensor;
    if (l.useBias && l.bias) z = tf.add(z, l.bias.read());
    const name = l.activation.getClassName();
    const out = name === 'linear' ? z : name === 'relu' ? tf.relu(z) : l.activation.apply(z);
    return { output: out, saved: [z] };
  },
  backward: ({ layer, inputs, saved, signal, activationBackward }) => {
    const l = layer as unknown as ConvLike;
    const g = activationBackward(signal, saved[0], l.activation) as tf.Tensor4D;
    const [, h, w, c] = inputs[0].shape;
    // Z&F: "filtering with the transposed (flipped) filters" = conv2dTranspose with the same kernel; a dilated
    // kernel becomes an ordinary one with zeros between its taps (tfjs has no dilated transposed convolution)
    return tf.conv2dTranspose(
      g,
      dilateKernel(l.kernel.read() as tf.Tensor4D, pair(l.dilationRate, 1)),
      [g.shape[0], h, w, c],
      pair(l.strides, 1),
      l.padding as 'valid' | 'same',
    );
  },
  geometry: (layer, inputShape) => {
    const l = layer as unknown as ConvLike;
    return windowGeometry(
      pair(l.kernelSize, 1),
      pair(l.strides, 1),
      l.padding,
      inputShape,
      pair(l.dilationRate, 1),
    );
  },
};

/** Dense: the activation's rule, then `W^T` (applied to the last axis). */
const denseRule: DeconvRule = {
  forward: (layer, inputs) => {
    const l = layer as unknown as ConvLike;
    const x = inputs[0];
    const k = l.kernel.read() as tf.Tensor2D;
    const x2 = tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D;
    let z: tf.Tensor = tf.matMul(x2, k);
    if (l.useBias && l.bias) z = tf.add(z, l.bias.read());
    z = tf.reshape(z, [...x.shape.slice(0, -1), k.shape[1]]);
    const name = l.activation.getClassName();
    const out = name === 'linear' ? z : name === 'relu' ? tf.relu(z) : l.activation.apply(z);
    return { output: out, saved: [z] };
  },
  backward: ({ layer, inputs, saved, signal, activationBackward }) => {
    const l = layer as unknown as ConvLike;
    const g = activationBackward(signal, saved[0], l.activation);
    const k = l.kernel.read() as tf.Tensor2D;
    const g2 = tf.reshape(g, [-1, k.shape[1]]) as tf.Tensor2D;
    // explicit transpose: wasm's transposed matMul is ~10x slower than transpose + plain matMul (FINDINGS.md)
    const dx = tf.matMul(g2, tf.transpose(k));
    return tf.reshape(dx, [signal.shape[0], ...inputs[0].shape.slice(1)]);
  },
  geometry: () => ({ kind: 'global' }),
};

const reshapeRule: DeconvRule = {
  backward: ({ inputs, signal }) => tf.reshape(signal, [signal.shape[0], ...inputs[0].shape.slice(1)]),
  geometry: () => ({ kind: 'global' }),
};

/** ReLU layer (with optional `maxValue`): the strategy's rule. */
const reluRule: DeconvRule = {
  backward: ({ layer, inputs, signal, strategy, repeat }) => {
    const maxValue = (layer as unknown as { maxValue?: number }).maxValue;
    return rectifyWith(strategy, signal, inputs[0], repeat, maxValue ?? undefined);
  },
  geometry: () => ({ kind: 'identity' }),
};

const activationRule: DeconvRule = {
  backward: ({ layer, inputs, signal, activationBackward }) =>
    activationBackward(signal, inputs[0], (layer as unknown as { activation: ActivationLike }).activation),
  geometry: () => ({ kind: 'identity' }),
};

/** BatchNormalization in inference mode: the affine map `gamma / sqrt(movingVariance + epsilon)` per channel. */
const batchNormRule: DeconvRule = {
  backward: ({ layer, inputs, signal }) => {
    const l = layer as unknown as {
      gamma?: { read(): tf.Tensor } | null;
      movingVariance: { read(): tf.Tensor };
      epsilon: number;
      axis: number | number[];
    };
    const rank = inputs[0].rank;
    const axis = Array.isArray(l.axis) ? l.axis[0] : l.axis;
    const ax = axis < 0 ? axis + rank : axis;
    let scale = tf.rsqrt(tf.add(l.movingVariance.read(), l.epsilon));
    if (l.gamma) scale = tf.mul(scale, l.gamma.read());
    const shape = Array.from({ length: rank }, (_, i) => (i === ax ? inputs[0].shape[ax] : 1));
    return tf.mul(signal, tf.reshape(scale, shape));
  },
  geometry: () => ({ kind: 'identity' }),
};

const addRule: DeconvRule = {
  backward: ({ inputs, signal }) => inputs.map(() => signal),
  geometry: () => ({ kind: 'identity' }),
};

const averageRule: DeconvRule = {
  backward: ({ inputs, signal }) => {
    const s = tf.div(signal, inputs.length);
    return inputs.map(() => s);
  },
  geometry: () => ({ kind: 'identity' }),
};

const concatenateRule: DeconvRule = {
  backward: ({ layer, inputs, signal }) => {
    const axis = (layer as unknown as { axis: number }).axis;
    const rank = signal.rank;
    const ax = axis < 0 ? axis + rank : axis;
    return tf.split(
      signal,
      inputs.map((x) => x.shape[ax]),
      ax,
    );
  },
  geometry: () => ({ kind: 'identity' }),
};

registerDeconvRule('Conv2D', conv2dRule);
registerDeconvRule('Dense', denseRule);
registerDeconvRule('Flatten', reshapeRule);
registerDeconvRule('Reshape', reshapeRule);
registerDeconvRule('ReLU', reluRule);
registerDeconvRule('Activation', activationRule);
for (const cls of ['LeakyReLU', 'ELU', 'Softmax', 'ThresholdedReLU', 'PReLU']) {
  registerDeconvRule(cls, { ...gradientRule, geometry: () => ({ kind: 'identity' }) });
}
for (const cls of ['Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']) {
  registerDeconvRule(cls, identityRule);
}
registerDeconvRule('BatchNormalization', batchNormRule);
registerDeconvRule('Add', addRule);
registerDeconvRule('Average', averageRule);
registerDeconvRule('Concatenate', concatenateRule);
for (const [cls, rule] of Object.entries(poolingRules())) registerDeconvRule(cls, rule);
for (const [cls, rule] of Object.entries(modernRules())) registerDeconvRule(cls, rule);

/** Checks the parts of a layer's configuration the built-in rules cannot handle (before any tensor exists). */
export function checkLayerSupported(fn: string, layer: Layer): void {
  ruleFor(fn, layer);
  const cls = layer.getClassName();
  const l = layer as unknown as Partial<ConvLike>;
  if (
    [
      'Conv2D',
      'DepthwiseConv2D',
      'SeparableConv2D',
      'MaxPooling2D',
      'AveragePooling2D',
      'GlobalAveragePooling2D',
      'GlobalMaxPooling2D',
      'UpSampling2D',
    ].includes(cls)
  ) {
    checkChannelsLast(fn, layer, l.dataFormat);
  }
}
