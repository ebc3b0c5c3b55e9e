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
import { dilateKernel, modernRules } from './rules-modern.js';

/**
 * The backward rule applied at every ReLU, the only thing that differs between the methods of the literature
 * (captum's Deconvolution / GuidedBackprop / Saliency differ the same way):
 * - `'deconvnet'`: Zeiler & Fergus (2013): ReLU of the signal coming back, `relu(g)`, independent of the forward
 *   activation (the switches of max-pooling still depend on it).
 * - `'guided'`: guided backpropagation, Springenberg et al. (2015), eq. (6): `relu(g) * [x > 0]`, the deconvnet
 *   rule also masked by the forward activation.
 * - `'saliency'`: the plain gradient, Simonyan et al. (2014): `g * [x > 0]`.
 *
 * The rule applies at ReLU-family units only: `relu` and `relu6` activations and the `ReLU` layer (also with
 * `maxValue`, e.g. ReLU6, where guided/saliency also mask `x < maxValue`). Every other activation (sigmoid, tanh,
 * swish, gelu, softmax, LeakyReLU, ELU...) and every multiplicative gate (squeeze-excitation `Multiply`) passes its
 * exact gradient in all three strategies: captum's `Deconvolution` / `GuidedBackprop` override the backward of
 * `nn.ReLU` modules only, and tf-keras-vis's guided backpropagation replaces only the gradient of `relu`.
 */
export type ProjectionStrategy = 'deconvnet' | 'guided' | 'saliency';

/**
 * The strategies, for validation and iteration.
 *
 * @example
 * ```ts
 * for (const strategy of PROJECTION_STRATEGIES) dn.project(images, { layer: 'conv2', strategy });
 * ```
 */
export const PROJECTION_STRATEGIES: readonly ProjectionStrategy[] = ['deconvnet', 'guided', 'saliency'];

/** What a rule's `backward` receives. Forward tensors have batch `N`; signals have batch `N * repeat`. */
export interface DeconvBackwardArgs {
  /** The layer being inverted. */
  readonly layer: Layer;
  /** The layer's forward inputs (batch `N`). */
  readonly inputs: readonly tf.Tensor[];
  /** The layer's forward output (batch `N`). */
  readonly output: tf.Tensor;
  /** Whatever the rule's `forward` kept for the backward pass (e.g. pre-activations, pooling switches). */
  readonly saved: readonly tf.Tensor[];
  /**
   * The signal at the layer's output, batch `N * repeat`: row `b` belongs to forward image `floor(b / repeat)`
   * (several channels of the same image are projected in one pass).
   */
  readonly signal: tf.Tensor;
  /** How many signal rows share each forward image. */
  readonly repeat: number;
  /** The active strategy. */
  readonly strategy: ProjectionStrategy;
  /** Applies the strategy's ReLU rule to `signal` given the ReLU's forward input `preActivation` (batch `N`). */
  rectify(signal: tf.Tensor, preActivation: tf.Tensor): tf.Tensor;
  /**
   * The backward of an activation function object of tfjs-layers (`layer.activation`): the strategy's ReLU rule for
   * `relu`/`relu6`, identity for `linear`, the exact vector-Jacobian product otherwise.
   */
  activationBackward(signal: tf.Tensor, preActivation: tf.Tensor, activation: ActivationLike): tf.Tensor;
  /** Repeats a forward tensor `[N, ...]` to the signal's batch `[N * repeat, ...]`. */
  tile(t: tf.Tensor): tf.Tensor;
}

/** A tfjs-layers activation function object (e.g. a Conv2D layer's `activation`). */
export interface ActivationLike {
  /** Applies the activation. */
  apply(x: tf.Tensor): tf.Tensor;
  /** `'relu'`, `'linear'`, `'softmax'`... */
  getClassName(): string;
}

/** What a rule's optional `forward` returns. */
export interface DeconvForwardResult {
  /** The layer's output (must equal `layer.apply(inputs)`). */
  output: tf.Tensor;
  /** Tensors to keep for `backward` (freed with the pass). */
  saved?: tf.Tensor[];
}

/** How a layer moves pixels around, for receptive fields. */
export type LayerGeometry =
  /** Output position `i` depends on input position `i` only (elementwise layers). */
  | {
      /** Elementwise. */
      kind: 'identity';
    }
  /** Output position `i` depends on input positions `i*stride - padStart + d*j`, `j < kernel`. */
  | {
      /** A sliding window. */
      kind: 'window';
      /** Window size `[rows, columns]`. */
      kernel: [number, number];
      /** Step `[rows, columns]`. */
      strides: [number, number];
      /** Padding before the first row / column (negative for cropping). */
      padStart: [number, number];
      /** Dilation `[rows, columns]` (default 1). */
      dilation?: [number, number];
    }
  /** Every output depends on every input position (Dense, Flatten, global pooling). */
  | {
      /** Global. */
      kind: 'global';
    };

/**
 * The projection rule of one layer class. Register one with {@link registerDeconvRule} for a custom layer.
 *
 * @example
 * ```ts
 * // a custom layer that scales its input by a constant: the projection scales the signal by the same constant
 * registerDeconvRule('Scale', {
 *   backward: ({ signal, layer }) => tf.mul(signal, (layer as unknown as { factor: number }).factor),
 *   geometry: () => ({ kind: 'identity' }),
 * });
 * ```
 */
export interface DeconvRule {
  /**
   * Runs the layer forward; default: `layer.apply(inputs)` in inference mode, nothing saved. `record` is false when
   * no backward pass follows (activations, occlusion), so a rule may skip what only `backward` needs.
   */
  forward?(layer: Layer, inputs: tf.Tensor[], record: boolean): DeconvForwardResult;
  /** Maps the signal at the output back to each input (one tensor per input, batch `N * repeat`). */
  backward(args: DeconvBackwardArgs): tf.Tensor | tf.Tensor[];
  /**
   * Spatial geometry for receptive fields; default `{kind: 'global'}` (conservative: the whole image).
   * `inputShape` is the static input shape, batch first.
   */
  geometry?(layer: Layer, inputShape: readonly (number | null)[]): LayerGeometry;
}

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
// helpers

/** Reshapes a signal `[N*r, ...]` to `[N, r, ...]` so that forward tensors `[N, 1, ...]` broadcast against it. */
function grouped(signal: tf.Tensor, repeat: number): tf.Tensor {
  const [b, ...rest] = signal.shape;
  return tf.reshape(signal, [b / repeat, repeat, ...rest]);
}

/** `signal * mask` where `mask` has the forward batch `N`, without materialising the repeat. */
export function mulForward(signal: tf.Tensor, forward: tf.Tensor, repeat: number): tf.Tensor {
  if (repeat === 1) return tf.mul(signal, forward);
  const g = grouped(signal, repeat);
  const f = tf.expandDims(forward, 1);
  return tf.reshape(tf.mul(g, f), signal.shape);
}

/** Repeats `[N, ...]` to `[N*r, ...]` (rows of the same image adjacent). */
export function tileForward(t: tf.Tensor, repeat: number): tf.Tensor {
  if (repeat === 1) return t;
  const [n, ...rest] = t.shape;
  const e = tf.expandDims(t, 1);
  return tf.reshape(tf.tile(e, [1, repeat, ...rest.map(() => 1)]), [n * repeat, ...rest]);
}

/** The strategy's ReLU rule (see {@link ProjectionStrategy}). */
export function rectifyWith(
  strategy: ProjectionStrategy,
  signal: tf.Tensor,
  pre: tf.Tensor,
  repeat: number,
  upper?: number,
): tf.Tensor {
  let mask: tf.Tensor | null = null;
  if (strategy !== 'deconvnet') {
    mask = tf.cast(tf.greater(pre, 0), 'float32');
    if (upper !== undefined) mask = tf.mul(mask, tf.cast(tf.less(pre, upper), 'float32'));
  }
  const g = strategy === 'saliency' ? signal : tf.relu(signal);
  return mask === null ? g : mulForward(g, mask, repeat);
}

/** The exact vector-Jacobian product of `f` at `x` (batch `N`) with `signal` (batch `N * repeat`). */
function vjp(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, signal: tf.Tensor, repeat: number): tf.Tensor {
  return tf.grad(f)(tileForward(x, repeat), signal);
}

export function makeBackwardArgs(
  base: Omit<DeconvBackwardArgs, 'rectify' | 'activationBackward' | 'tile'>,
): DeconvBackwardArgs {
  const { strategy, repeat } = base;
  const rectify = (signal: tf.Tensor, pre: tf.Tensor) => rectifyWith(strategy, signal, pre, repeat);
  return {
    ...base,
    rectify,
    tile: (t) => tileForward(t, repeat),
    activationBackward: (signal, pre, act) => {
      const name = act.getClassName();
      if (name === 'linear') return signal;
      if (name === 'relu') return rectify(signal, pre);
      if (name === 'relu6') return rectifyWith(strategy, signal, pre, repeat, 6);
      return vjp((x) => act.apply(x), pre, signal, repeat);
    },
  };
}

/** A layer's `[rows, columns]` setting from a number or an array. */
export function pair(v: number | number[] | undefined, dflt: number): [number, number] {
  if (v === undefined || v === null) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  return [v[0], v.length > 1 ? v[1] : v[0]];
}

/** Padding before the first element for `'same'` (TensorFlow's convention) or `'valid'`. */
export function padStart(padding: string, size: number, kernelEff: number, stride: number): number {
  if (padding !== 'same') return 0;
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernelEff - size, 0);
  return Math.floor(total / 2);
}

/** The sliding-window geometry of a convolution or pooling layer. */
export function windowGeometry(
  kernel: [number, number],
  strides: [number, number],
  padding: string,
  inputShape: readonly (number | null)[],
  dilation: [number, number] = [1, 1],
): LayerGeometry {
  const kEff: [number, number] = [(kernel[0] - 1) * dilation[0] + 1, (kernel[1] - 1) * dilation[1] + 1];
  const h = inputShape[1];
  const w = inputShape[2];
  if (padding === 'same' && (h === null || w === null)) return { kind: 'global' };
  return {
    kind: 'window',
    kernel,
    strides,
    dilation,
    padStart: [
      padStart(padding, h ?? 0, kEff[0], strides[0]),
      padStart(padding, w ?? 0, kEff[1], strides[1]),
    ],
  };
}

interface ConvLike {
  kernel: { read(): tf.Tensor };
  bias?: { read(): tf.Tensor } | null;
  useBias: boolean;
  activation: ActivationLike;
  kernelSize: number[];
  strides: number[];
  padding: string;
  dilationRate: number | number[];
  dataFormat: string;
}

interface PoolLike {
  poolSize: number[];
  strides: number[];
  padding: string;
  dataFormat: string;
}

function checkChannelsLast(fn: string, layer: Layer, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'channelsLast') {
    throw new UnsupportedLayerError(
      fn,
      layer.name,
      layer.getClassName(),
      `Only dataFormat 'channelsLast' (NHWC) is supported; this layer has '${dataFormat}'.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// built-in rules

/**
 * Projects through the layer's exact gradient (vector-Jacobian product of `layer.apply`). Register it for any
 * differentiable custom layer; for layers without ReLUs inside, every strategy agrees with it.
 *
 * @example
 * ```ts
 * registerDeconvRule('LayerNormalization', gradientRule);
 * ```
 */
export const gradientRule: DeconvRule = {
  backward: ({ layer, inputs, signal, repeat }) => {
    if (inputs.length !== 1) {
      return tf.grads((...xs: tf.Tensor[]) => layer.apply(xs, { training: false }) as tf.Tensor)(
        inputs.map((x) => tileForward(x, repeat)),
        signal,
      );
    }
    return vjp((x) => layer.apply(x, { training: false }) as tf.Tensor, inputs[0], signal, repeat);
  },
  geometry: () => ({ kind: 'global' }),
};

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

/**
 * Max-pooling that records its switches: the output, and for every output the flat index `(row * W + col) * C + c`
 * of the FIRST maximum of its window in row-major order (padding never wins; `tf.argMax` picks the first maximum on
 * cpu and wasm), so ties resolve the same way on those backends.
 *
 * Why not `tf.maxPoolWithArgmax`: its wasm kernel (tfjs 4.22) starts each window's maximum at FLT_MIN (the smallest
 * positive float) instead of -inf, so a window of zeros (common after a ReLU) or of negative values gets output
 * 1.2e-38 and switch 0; and cpu and wasm break ties differently (first vs last maximum).
 */
export function maxPoolWithSwitches(
  x: tf.Tensor4D,
  pool: [number, number],
  strides: [number, number],
  padding: 'valid' | 'same',
): { output: tf.Tensor4D; switches: tf.Tensor4D; window: tf.Tensor4D } {
  const [n, h, w, c] = x.shape;
  const outSize = (len: number, p: number, s: number) =>
    padding === 'same' ? Math.ceil(len / s) : Math.floor((len - p) / s) + 1;
  const ho = outSize(h, pool[0], strides[0]);
  const wo = outSize(w, pool[1], strides[1]);
  const pt = padStart(padding, h, pool[0], strides[0]);
  const pl = padStart(padding, w, pool[1], strides[1]);
  const pb = Math.max(0, (ho - 1) * strides[0] + pool[0] - h - pt);
  const pr = Math.max(0, (wo - 1) * strides[1] + pool[1] - w - pl);
  const xp =
    pt + pb + pl + pr > 0
      ? tf.pad(
          x,
          [
            [0, 0],
            [pt, pb],
            [pl, pr],
            [0, 0],
          ],
          -3.4e38,
        )
      : x;
  // every window element at once: a depthwise convolution with one-hot kernels (exact: v*1 plus zeros), output
  // channel c*M + k holds element k (row-major) of channel c's window; much faster than M strided slices on wasm
  const m = pool[0] * pool[1];
  const eye = tf.reshape(tf.eye(m), [pool[0], pool[1], 1, m]);
  const kernel = tf.tile(eye, [1, 1, c, 1]) as tf.Tensor4D;
  let windows = tf.depthwiseConv2d(xp, kernel, strides, 'valid') as tf.Tensor4D;
  if (windows.shape[1] !== ho || windows.shape[2] !== wo)
    windows = tf.slice(windows, [0, 0, 0, 0], [n, ho, wo, -1]);
  const cand = tf.reshape(windows, [n, ho, wo, c, m]);
  const k = tf.argMax(cand, 4); // first maximum on ties (cpu and wasm)
  const output = tf.max(cand, 4) as tf.Tensor4D;
  // flat index in the image: ((row0 + i) * W + col0 + j) * C + c, with i = floor(k / pw), j = k % pw
  const exact = h * w * c < 2 ** 24;
  const dtype = exact ? 'float32' : 'int32';
  const num = (v: number) => tf.scalar(v, dtype);
  const kk = tf.cast(k, dtype);
  const i = exact ? tf.floor(tf.div(kk, num(pool[1]))) : tf.floorDiv(kk, num(pool[1]));
  const j = tf.sub(kk, tf.mul(i, num(pool[1])));
  const rows = tf.reshape(tf.sub(tf.mul(tf.range(0, ho, 1, dtype), num(strides[0])), num(pt)), [1, ho, 1, 1]);
  const cols = tf.reshape(tf.sub(tf.mul(tf.range(0, wo, 1, dtype), num(strides[1])), num(pl)), [1, 1, wo, 1]);
  const chans = tf.reshape(tf.range(0, c, 1, dtype), [1, 1, 1, c]);
  const pos = tf.add(tf.mul(tf.add(tf.mul(tf.add(rows, i), num(w)), tf.add(cols, j)), num(c)), chans);
  return { output, switches: tf.cast(pos, 'int32') as tf.Tensor4D, window: k as tf.Tensor4D };
}

/**
 * MaxPooling2D: forward records the switches ({@link maxPoolWithSwitches}: the first maximum of each window);
 * backward places each value of the signal at its window's switch (Z&F "unpooling"), summing where overlapping
 * windows share a switch.
 */
const maxPoolRule: DeconvRule = {
  forward: (layer, inputs, record) => {
    const l = layer as unknown as PoolLike;
    if (!record) {
      const x = inputs[0] as tf.Tensor4D;
      return {
        output: tf.maxPool(x, pair(l.poolSize, 2), pair(l.strides, 2), l.padding as 'valid' | 'same'),
      };
    }
    const pool = pair(l.poolSize, 2);
    const strides = pair(l.strides, 2);
    const r = maxPoolWithSwitches(inputs[0] as tf.Tensor4D, pool, strides, l.padding as 'valid' | 'same');
    // non-overlapping windows (the common 2x2 / stride 2): the one-hot of each window's switch, for unpoolWindows
    if (pool[0] === strides[0] && pool[1] === strides[1]) {
      return { output: r.output, saved: [tf.cast(tf.oneHot(r.window, pool[0] * pool[1]), 'float32')] };
    }
    return { output: r.output, saved: [r.switches] };
  },
  backward: ({ layer, inputs, saved, signal, repeat }) => {
    if (saved[0].rank === 5) {
      const l = layer as unknown as PoolLike;
      return unpoolWindows(signal, saved[0], inputs[0].shape, repeat, pair(l.poolSize, 2), l.padding);
    }
    return unpool(signal, saved[0], inputs[0].shape, repeat);
  },
  geometry: (layer, inputShape) => {
    const l = layer as unknown as PoolLike;
    return windowGeometry(pair(l.poolSize, 2), pair(l.strides, 2), l.padding, inputShape);
  },
};

/**
 * Unpooling (Z&F section 2.1): places `signal` (`[N*repeat, Ho, Wo, C]`) at the recorded `switches` (`[N, Ho, Wo,
 * C]`, flat indices within one image) of an input of shape `inputShape` (`[N, H, W, C]`), summing collisions.
 */
export function unpool(
  signal: tf.Tensor,
  switches: tf.Tensor,
  inputShape: number[],
  repeat: number,
): tf.Tensor {
  const [n, h, w, c] = inputShape;
  const b = signal.shape[0];
  const m = signal.size / b;
  const hwc = h * w * c;
  const idx = tf.reshape(switches, [n, 1, m]);
  const base = tf.reshape(tf.mul(tf.range(0, b, 1, 'int32'), tf.scalar(hwc, 'int32')), [n, repeat, 1]);
  const flat = tf.reshape(tf.add(idx, base), [b * m, 1]);
  const out = tf.scatterND(flat, tf.reshape(signal, [b * m]), [b * hwc]);
  return tf.reshape(out, [b, h, w, c]);
}

/**
 * The `h x w` window at (`top`, `left`) of every image of `t` (`[B, H, W, C]`), as a slice of `[B, H, W * C]`: the same
 * numbers as `tf.slice(t, [0, top, left, 0], [B, h, w, C])`, but each row of the window is one contiguous run, where
 * a 4-D slice copies C values at a time (wasm's Slice loops over every pixel in JavaScript: ~3 s for 64 maps of
 * 113 x 113, 53% of a MobileNetV2 projection; this way ~B * h runs).
 */
export function cropHW(t: tf.Tensor4D, top: number, left: number, h: number, w: number): tf.Tensor4D {
  const [b, hh, ww, c] = t.shape;
  if (top === 0 && left === 0 && h === hh && w === ww) return t;
  const rows = tf.slice(tf.reshape(t, [b, hh, ww * c]), [0, top, left * c], [b, h, w * c]);
  return tf.reshape(rows, [b, h, w, c]);
}

/**
 * Unpooling for non-overlapping windows (stride = pool size), without a scatter: each signal value times the one-hot
 * of its window's switch (`[N, Ho, Wo, C, ph*pw]`), laid out window by window (a transpose, like depth-to-space),
 * then cropped / zero-padded from the padded grid to the input. Exact (products by 1 and 0), the same result as
 * {@link unpool}, and linear in the input size on every backend: webgl's `ScatterNd` compares every output element
 * with every update (minutes for a batch of 28x28 maps on a software GPU).
 */
export function unpoolWindows(
  signal: tf.Tensor,
  windows: tf.Tensor,
  inputShape: number[],
  repeat: number,
  pool: [number, number],
  padding: string,
): tf.Tensor {
  const [n, h, w, c] = inputShape;
  const [, ho, wo] = windows.shape as number[];
  const [ph, pw] = pool;
  const b = signal.shape[0];
  // (+ 0 turns the -0 of a negative value times a zero of the one-hot into +0, as a scatter leaves it)
  const placed = tf.add(
    tf.mul(tf.reshape(signal, [n, repeat, ho, wo, c, 1]), tf.reshape(windows, [n, 1, ho, wo, c, ph * pw])),
    0,
  );
  const grid = tf.reshape(tf.transpose(tf.reshape(placed, [b, ho, wo, c, ph, pw]), [0, 1, 4, 2, 5, 3]), [
    b,
    ho * ph,
    wo * pw,
    c,
  ]);
  const pt = padStart(padding, h, ph, ph);
  const pl = padStart(padding, w, pw, pw);
  const rows = Math.min(h, ho * ph - pt);
  const cols = Math.min(w, wo * pw - pl);
  const inner = cropHW(grid as tf.Tensor4D, pt, pl, rows, cols);
  if (rows === h && cols === w) return inner;
  return tf.pad(inner, [
    [0, 0],
    [0, h - rows],
    [0, w - cols],
    [0, 0],
  ]);
}

/** AveragePooling2D: spreads each value evenly over its window (the exact adjoint). */
const avgPoolRule: DeconvRule = {
  backward: ({ layer, inputs, signal }) => {
    const l = layer as unknown as PoolLike;
    const [, h, w, c] = inputs[0].shape;
    const pad = l.padding as 'valid' | 'same';
    const f = (t: tf.Tensor) => tf.avgPool(t as tf.Tensor4D, pair(l.poolSize, 2), pair(l.strides, 2), pad);
    return tf.grad(f)(tf.zeros([signal.shape[0], h, w, c]), signal);
  },
  geometry: (layer, inputShape) => {
    const l = layer as unknown as PoolLike;
    return windowGeometry(pair(l.poolSize, 2), pair(l.strides, 2), l.padding, inputShape);
  },
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

const zeroPaddingRule: DeconvRule = {
  backward: ({ layer, inputs, signal }) => {
    const l = layer as unknown as { padding: [[number, number], [number, number]]; dataFormat: string };
    checkChannelsLast('Deconvnet', layer, l.dataFormat);
    const [, h, w] = inputs[0].shape;
    return cropHW(signal as tf.Tensor4D, l.padding[0][0], l.padding[1][0], h, w);
  },
  geometry: (layer) => {
    const l = layer as unknown as { padding: [[number, number], [number, number]] };
    return { kind: 'window', kernel: [1, 1], strides: [1, 1], padStart: [l.padding[0][0], l.padding[1][0]] };
  },
};

const croppingRule: DeconvRule = {
  backward: ({ layer, signal }) => {
    const l = layer as unknown as { cropping: [[number, number], [number, number]] };
    const cr = l.cropping;
    return tf.pad(signal, [[0, 0], cr[0], cr[1], [0, 0]]);
  },
  geometry: (layer) => {
    const l = layer as unknown as { cropping: [[number, number], [number, number]] };
    return {
      kind: 'window',
      kernel: [1, 1],
      strides: [1, 1],
      padStart: [-l.cropping[0][0], -l.cropping[1][0]],
    };
  },
};

const globalAvgRule: DeconvRule = {
  backward: ({ inputs, signal }) => {
    const [, h, w, c] = inputs[0].shape;
    const s = tf.div(tf.reshape(signal, [signal.shape[0], 1, 1, c]), h * w);
    return tf.broadcastTo(s, [signal.shape[0], h, w, c]);
  },
  geometry: () => ({ kind: 'global' }),
};

/** GlobalMaxPooling2D: the signal goes to the (first) argmax of each channel. */
const globalMaxRule: DeconvRule = {
  forward: (_layer, inputs) => {
    const x = inputs[0];
    const [n, h, w, c] = x.shape;
    const flat = tf.reshape(x, [n, h * w, c]);
    return { output: tf.max(flat, 1), saved: [tf.argMax(flat, 1)] };
  },
  backward: ({ inputs, saved, signal, repeat }) => {
    const [n, h, w, c] = inputs[0].shape;
    const onehot = tf.transpose(tf.oneHot(saved[0] as tf.Tensor2D, h * w), [0, 2, 1]); // [n, hw, c]
    const g = tf.reshape(signal, [n, repeat, 1, c]);
    const out = tf.mul(g, tf.expandDims(onehot, 1));
    return tf.reshape(out, [signal.shape[0], h, w, c]);
  },
  geometry: () => ({ kind: 'global' }),
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
registerDeconvRule('MaxPooling2D', maxPoolRule);
registerDeconvRule('AveragePooling2D', avgPoolRule);
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
registerDeconvRule('ZeroPadding2D', zeroPaddingRule);
registerDeconvRule('Cropping2D', croppingRule);
registerDeconvRule('GlobalAveragePooling2D', globalAvgRule);
registerDeconvRule('GlobalMaxPooling2D', globalMaxRule);
registerDeconvRule('Add', addRule);
registerDeconvRule('Average', averageRule);
registerDeconvRule('Concatenate', concatenateRule);
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
