/**
 * The vocabulary of the projection rules (internal to src/deconvnet, public types re-exported by rules.ts): the
 * strategies, what a rule receives and returns, layer geometry, and the helpers every rule uses (signals of batch
 * `N * repeat` against forward tensors of batch `N`, the strategy's ReLU rule, exact vector-Jacobian products,
 * window geometry). Imports no rule and no registry, so rule files can depend on it without a cycle.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedLayerError } from '../core/index.js';
import type { Layer } from '../model/kinds.js';

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
export function vjp(
  f: (x: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
  signal: tf.Tensor,
  repeat: number,
): tf.Tensor {
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

/** The fields of a Conv2D-like layer the rules read. */
export interface ConvLike {
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

/** The fields of a pooling layer the rules read. */
export interface PoolLike {
  poolSize: number[];
  strides: number[];
  padding: string;
  dataFormat: string;
}

/** Throws unless the layer computes channels last (NHWC), the only layout the rules handle. */
export function checkChannelsLast(fn: string, layer: Layer, dataFormat: string | undefined): void {
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
