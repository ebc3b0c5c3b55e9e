/**
 * An independent oracle for the deconvnet: the network recomputed from its weights with plain tf ops, every ReLU
 * replaced by a `tf.customGrad` whose backward is the strategy's rule, differentiated with `tf.grad`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export type Strategy = 'deconvnet' | 'guided' | 'saliency';

function customRelu(strategy: Strategy): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: tf.relu(x),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const mask = tf.cast(tf.greater(saved[0], 0), 'float32');
        if (strategy === 'deconvnet') return tf.relu(dy);
        if (strategy === 'guided') return tf.mul(tf.relu(dy), mask);
        return tf.mul(dy, mask);
      },
    };
  }) as any) as (x: tf.Tensor) => tf.Tensor;
}

/** TensorFlow's 'same' padding before the first element. */
function padBefore(padding: string, len: number, k: number, s: number): number {
  if (padding !== 'same') return 0;
  const out = Math.ceil(len / s);
  return Math.floor(Math.max((out - 1) * s + k - len, 0) / 2);
}

/**
 * Plain-JS unpooling: each dy value goes to the FIRST maximum (row-major) of its window, padding excluded.
 * The independent reference for the switches (test code may read synchronously).
 */
export function jsUnpool(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  pool: [number, number],
  strides: [number, number],
  padding: string,
): Float32Array {
  const [n, h, w, c] = x.shape;
  const [, ho, wo] = dy.shape;
  const xv = x.dataSync();
  const dv = dy.dataSync();
  const out = new Float32Array(x.size);
  const pt = padBefore(padding, h, pool[0], strides[0]);
  const pl = padBefore(padding, w, pool[1], strides[1]);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let ch = 0; ch < c; ch++) {
          let best = -1;
          for (let i = 0; i < pool[0]; i++)
            for (let j = 0; j < pool[1]; j++) {
              const y = oy * strides[0] - pt + i;
              const xx = ox * strides[1] - pl + j;
              if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
              const idx = ((b * h + y) * w + xx) * c + ch;
              if (best < 0 || xv[idx] > xv[best]) best = idx;
            }
          out[best] += dv[((b * ho + oy) * wo + ox) * c + ch];
        }
  return out;
}

function firstMaxPool(pool: [number, number], strides: [number, number], padding: 'valid' | 'same') {
  return tf.customGrad(((x: tf.Tensor4D, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: tf.maxPool(x, pool, strides, padding),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) =>
        tf.tensor4d(
          jsUnpool(saved[0] as tf.Tensor4D, dy, pool, strides, padding),
          saved[0].shape as number[] as [number, number, number, number],
        ),
    };
  }) as any) as (x: tf.Tensor) => tf.Tensor;
}

function act(name: string, relu: (x: tf.Tensor) => tf.Tensor, z: tf.Tensor): tf.Tensor {
  if (name === 'linear') return z;
  if (name === 'relu') return relu(z);
  if (name === 'tanh') return tf.tanh(z);
  throw new Error(`oracle: activation ${name}`);
}

/** Forward through the layers of a Sequential model up to (and including) `upTo`, with plain ops. */
export function oracleForward(
  model: tfl.LayersModel,
  x: tf.Tensor,
  upTo: string,
  strategy: Strategy,
): tf.Tensor {
  const relu = customRelu(strategy);
  let h = x;
  for (const layer of model.layers) {
    const cfg = layer.getConfig() as any;
    const w = layer.getWeights();
    switch (layer.getClassName()) {
      case 'Conv2D': {
        let z = tf.conv2d(h as tf.Tensor4D, w[0] as tf.Tensor4D, cfg.strides, cfg.padding);
        if (cfg.useBias) z = tf.add(z, w[1]);
        h = act(cfg.activation, relu, z);
        break;
      }
      case 'Dense': {
        let z = tf.matMul(h as tf.Tensor2D, w[0] as tf.Tensor2D) as tf.Tensor;
        if (cfg.useBias) z = tf.add(z, w[1]);
        h = act(cfg.activation, relu, z);
        break;
      }
      case 'ReLU':
        h = relu(h);
        break;
      case 'Activation':
        h = act(cfg.activation, relu, h);
        break;
      case 'MaxPooling2D':
        h = firstMaxPool(cfg.poolSize, cfg.strides, cfg.padding)(h);
        break;
      case 'AveragePooling2D':
        h = tf.avgPool(h as tf.Tensor4D, cfg.poolSize, cfg.strides, cfg.padding);
        break;
      case 'Flatten':
        h = tf.reshape(h, [h.shape[0], -1]);
        break;
      case 'Dropout':
        break;
      case 'ZeroPadding2D':
        h = tf.pad(h, [[0, 0], cfg.padding[0], cfg.padding[1], [0, 0]]);
        break;
      case 'BatchNormalization': {
        // weights: gamma, beta, movingMean, movingVariance
        const [gamma, beta, mean, variance] = w;
        h = tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, cfg.epsilon))), gamma), beta);
        break;
      }
      default:
        throw new Error(`oracle: layer ${layer.getClassName()}`);
    }
    if (layer.name === upTo) return h;
  }
  throw new Error(`oracle: no layer ${upTo}`);
}

/** The oracle's projection: d/dx sum(signal * a_upTo(x)), `signal` fixed. */
export function oracleProject(
  model: tfl.LayersModel,
  x: tf.Tensor,
  upTo: string,
  signal: tf.Tensor,
  strategy: Strategy,
): tf.Tensor {
  return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(oracleForward(model, t, upTo, strategy), signal)))(x);
}
