/**
 * An independent oracle for the modern-layer rules: a functional model recomputed from its weights with plain tf
 * ops (convolutions of every kind as sums over kernel taps of shifted slices: no conv kernel, no conv gradient),
 * every ReLU-family unit replaced by a `tf.customGrad` whose backward is the strategy's rule, differentiated with
 * `tf.grad`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Strategy } from './oracle.js';

function customRelu(strategy: Strategy, upper?: number): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: upper === undefined ? tf.relu(x) : tf.clipByValue(x, 0, upper),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        let mask = tf.cast(tf.greater(saved[0], 0), 'float32');
        if (upper !== undefined) mask = tf.mul(mask, tf.cast(tf.less(saved[0], upper), 'float32'));
        if (strategy === 'deconvnet') return tf.relu(dy);
        if (strategy === 'guided') return tf.mul(tf.relu(dy), mask);
        return tf.mul(dy, mask);
      },
    };
  }) as any) as (x: tf.Tensor) => tf.Tensor;
}

/**
 * Global max pooling whose gradient goes to the FIRST maximum of each channel (row-major), the convention of the
 * deconvnet's switches (`tf.max`'s own gradient splits ties, e.g. the copies an up-sampling layer makes).
 */
function firstGlobalMax(x: tf.Tensor): tf.Tensor {
  return tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([t]);
    return {
      value: tf.max(t, [1, 2]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [n, h, w, c] = saved[0].shape;
        const first = tf.argMax(tf.reshape(saved[0], [n, h * w, c]), 1); // [n, c]
        const onehot = tf.transpose(tf.oneHot(first, h * w), [0, 2, 1]); // [n, hw, c]
        return tf.reshape(tf.mul(onehot, tf.expandDims(dy, 1)), [n, h, w, c]);
      },
    };
  }) as any)(x) as tf.Tensor;
}

const pair = (v: number | number[]): [number, number] =>
  typeof v === 'number' ? [v, v] : [v[0], v[1] ?? v[0]];

/**
 * Sum over kernel taps `(i, j)` of `f(patch_ij, i, j)`, `patch_ij` the input pixels that tap sees at every output
 * position (TensorFlow 'same'/'valid' padding by the effective kernel size, strides, dilation), from pad + slice +
 * reshape only.
 */
function taps(
  x: tf.Tensor4D,
  kernel: [number, number],
  strides: [number, number],
  padding: string,
  dilation: [number, number],
  f: (patch: tf.Tensor4D, i: number, j: number) => tf.Tensor,
): tf.Tensor {
  const [n, h, w, c] = x.shape;
  const eff = [(kernel[0] - 1) * dilation[0] + 1, (kernel[1] - 1) * dilation[1] + 1];
  const len = [h, w];
  const out = [0, 1].map((a) =>
    padding === 'same' ? Math.ceil(len[a] / strides[a]) : Math.floor((len[a] - eff[a]) / strides[a]) + 1,
  );
  const before = [0, 1].map((a) =>
    padding === 'same' ? Math.floor(Math.max((out[a] - 1) * strides[a] + eff[a] - len[a], 0) / 2) : 0,
  );
  // pad enough that every tap's slice of out*stride rows fits
  const after = [0, 1].map((a) => (kernel[a] - 1) * dilation[a] + out[a] * strides[a] - len[a] - before[a]);
  const xp = tf.pad(x, [
    [0, 0],
    [before[0], Math.max(after[0], 0)],
    [before[1], Math.max(after[1], 0)],
    [0, 0],
  ]);
  let acc: tf.Tensor | null = null;
  for (let i = 0; i < kernel[0]; i++)
    for (let j = 0; j < kernel[1]; j++) {
      const sl = tf.slice(
        xp,
        [0, i * dilation[0], j * dilation[1], 0],
        [n, out[0] * strides[0], out[1] * strides[1], c],
      );
      const r = tf.reshape(sl, [n, out[0], strides[0], out[1], strides[1], c]);
      const patch = tf.reshape(tf.slice(r, [0, 0, 0, 0, 0, 0], [n, out[0], 1, out[1], 1, c]), [
        n,
        out[0],
        out[1],
        c,
      ]);
      const t = f(patch as tf.Tensor4D, i, j);
      acc = acc === null ? t : tf.add(acc, t);
    }
  return acc!;
}

function conv(x: tf.Tensor4D, k: tf.Tensor, strides: [number, number], padding: string, d: [number, number]) {
  const [kh, kw, ci, co] = k.shape;
  return taps(x, [kh, kw], strides, padding, d, (p, i, j) => {
    const [n, ho, wo] = p.shape;
    const wij = tf.reshape(tf.slice(k, [i, j, 0, 0], [1, 1, ci, co]), [ci, co]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(tf.reshape(p, [-1, ci]) as tf.Tensor2D, wij), [n, ho, wo, co]);
  });
}

function depthwise(
  x: tf.Tensor4D,
  k: tf.Tensor,
  strides: [number, number],
  padding: string,
  d: [number, number],
) {
  const [kh, kw, c, m] = k.shape;
  return taps(x, [kh, kw], strides, padding, d, (p, i, j) => {
    const [n, ho, wo] = p.shape;
    const wij = tf.reshape(tf.slice(k, [i, j, 0, 0], [1, 1, c, m]), [c, m]);
    return tf.reshape(tf.mul(tf.expandDims(p, 4), wij), [n, ho, wo, c * m]);
  });
}

function activation(name: string, strategy: Strategy, z: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'linear':
      return z;
    case 'relu':
      return customRelu(strategy)(z);
    case 'relu6':
      return customRelu(strategy, 6)(z);
    case 'tanh':
      return tf.tanh(z);
    case 'sigmoid':
      return tf.div(1, tf.add(1, tf.exp(tf.neg(z))));
    case 'swish':
      return tf.mul(z, tf.div(1, tf.add(1, tf.exp(tf.neg(z)))));
    case 'gelu':
      return tf.mul(tf.mul(0.5, z), tf.add(1, tf.erf(tf.div(z, Math.SQRT2))));
    default:
      throw new Error(`oracle: activation ${name}`);
  }
}

function layerForward(layer: tfl.layers.Layer, xs: tf.Tensor[], strategy: Strategy): tf.Tensor {
  const cfg = layer.getConfig() as any;
  const w = layer.getWeights();
  const x = xs[0];
  switch (layer.getClassName()) {
    case 'Conv2D': {
      let z = conv(x as tf.Tensor4D, w[0], pair(cfg.strides), cfg.padding, pair(cfg.dilationRate));
      if (cfg.useBias) z = tf.add(z, w[1]);
      return activation(cfg.activation, strategy, z);
    }
    case 'DepthwiseConv2D': {
      let z = depthwise(x as tf.Tensor4D, w[0], pair(cfg.strides), cfg.padding, pair(cfg.dilationRate));
      if (cfg.useBias) z = tf.add(z, w[1]);
      return activation(cfg.activation, strategy, z);
    }
    case 'SeparableConv2D': {
      const dz = depthwise(x as tf.Tensor4D, w[0], pair(cfg.strides), cfg.padding, pair(cfg.dilationRate));
      let z = conv(dz as tf.Tensor4D, w[1], [1, 1], 'valid', [1, 1]);
      if (cfg.useBias) z = tf.add(z, w[2]);
      return activation(cfg.activation, strategy, z);
    }
    case 'Dense': {
      let z = tf.matMul(x as tf.Tensor2D, w[0] as tf.Tensor2D) as tf.Tensor;
      if (cfg.useBias) z = tf.add(z, w[1]);
      return activation(cfg.activation, strategy, z);
    }
    case 'ReLU':
      return customRelu(strategy, cfg.maxValue ?? undefined)(x);
    case 'Activation':
      return activation(cfg.activation, strategy, x);
    case 'BatchNormalization': {
      const [gamma, beta, mean, variance] = w;
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, cfg.epsilon))), gamma), beta);
    }
    case 'GlobalAveragePooling2D':
      return tf.mean(x, [1, 2]);
    case 'GlobalMaxPooling2D':
      return firstGlobalMax(x);
    case 'Reshape':
      return tf.reshape(x, [x.shape[0], ...cfg.targetShape]);
    case 'Flatten':
      return tf.reshape(x, [x.shape[0], -1]);
    case 'Multiply':
      return xs.slice(1).reduce((a, b) => tf.mul(a, b), x);
    case 'Add':
      return xs.slice(1).reduce((a, b) => tf.add(a, b), x);
    case 'Concatenate':
      return tf.concat(xs, -1);
    case 'Rescaling':
      return tf.add(tf.mul(x, cfg.scale), cfg.offset);
    case 'UpSampling2D': {
      const [n, h, ww, c] = x.shape;
      const [s0, s1] = pair(cfg.size);
      // repeat rows, then columns (rank-4 broadcasts: tfjs has no gradient for tiling rank-6 tensors)
      const rows = tf.broadcastTo(tf.reshape(x, [n, h, 1, ww * c]), [n, h, s0, ww * c]);
      const cols = tf.broadcastTo(tf.reshape(rows, [n * h * s0, ww, 1, c]), [n * h * s0, ww, s1, c]);
      return tf.reshape(cols, [n, h * s0, ww * s1, c]);
    }
    case 'Cropping2D': {
      const [n, h, ww, c] = x.shape;
      const [[t, b], [l, r]] = cfg.cropping;
      return tf.slice(x, [0, t, l, 0], [n, h - t - b, ww - l - r, c]);
    }
    case 'ZeroPadding2D':
      return tf.pad(x, [[0, 0], cfg.padding[0], cfg.padding[1], [0, 0]]);
    case 'LayerNormalization': {
      const [gamma, beta] = w;
      const mean = tf.mean(x, -1, true);
      const v = tf.mean(tf.square(tf.sub(x, mean)), -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(v, cfg.epsilon))), gamma), beta);
    }
    default:
      throw new Error(`oracle: layer ${layer.getClassName()}`);
  }
}

interface SymbolicLike {
  id: number;
}

/** Forward through a (non-nested) functional model up to layer `upTo`, with plain ops. */
export function oracleGraphForward(
  model: tfl.LayersModel,
  x: tf.Tensor,
  upTo: string,
  strategy: Strategy,
): tf.Tensor {
  const values = new Map<number, tf.Tensor>([[(model.inputs[0] as unknown as SymbolicLike).id, x]]);
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const node = (
      layer as unknown as { inboundNodes: { inputTensors: SymbolicLike[]; outputTensors: SymbolicLike[] }[] }
    ).inboundNodes[0];
    const ins = node.inputTensors.map((t) => values.get(t.id)!);
    const out = layerForward(layer, ins, strategy);
    values.set(node.outputTensors[0].id, out);
    if (layer.name === upTo) return out;
  }
  throw new Error(`oracle: no layer ${upTo}`);
}

/** The oracle's projection: d/dx sum(signal * a_upTo(x)), `signal` fixed. */
export function oracleGraphProject(
  model: tfl.LayersModel,
  x: tf.Tensor,
  upTo: string,
  signal: tf.Tensor,
  strategy: Strategy,
): tf.Tensor {
  return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(oracleGraphForward(model, t, upTo, strategy), signal)))(x);
}
