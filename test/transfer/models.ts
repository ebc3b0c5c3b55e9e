// Tiny models for the transfer tests (built in the tests themselves: dense nets train on every backend).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

const init = (seed: number) => tfl.initializers.glorotUniform({ seed });

/** Sequential MLP 4 -> 8 -> 6 -> classes (softmax): 3 stages. */
export function mlp(classes = 3, seed = 1): tfl.Sequential {
  return tfl.sequential({
    name: 'mlp',
    layers: [
      tfl.layers.dense({
        units: 8,
        inputShape: [4],
        activation: 'relu',
        name: 'd1',
        kernelInitializer: init(seed),
      }),
      tfl.layers.dense({ units: 6, activation: 'relu', name: 'd2', kernelInitializer: init(seed + 1) }),
      tfl.layers.dense({
        units: classes,
        activation: 'softmax',
        name: 'd3',
        kernelInitializer: init(seed + 2),
      }),
    ],
  });
}

/**
 * Functional model with a nested Sequential block (dense + BatchNormalization) and a logits head:
 * in(4) -> block[ b1 dense 8 relu -> bn ] -> d2 dense 6 relu -> head dense classes.  Stages: b1(+bn), d2, head.
 */
export function nested(classes = 3, seed = 5): tfl.LayersModel {
  const block = tfl.sequential({
    name: 'block',
    layers: [
      tfl.layers.dense({
        units: 8,
        inputShape: [4],
        activation: 'relu',
        name: 'b1',
        kernelInitializer: init(seed),
      }),
      tfl.layers.batchNormalization({ name: 'bn' }),
    ],
  });
  const input = tfl.input({ shape: [4], name: 'x' });
  const h = block.apply(input) as tfl.SymbolicTensor;
  const h2 = tfl.layers
    .dense({ units: 6, activation: 'relu', name: 'd2', kernelInitializer: init(seed + 1) })
    .apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ units: classes, name: 'head', kernelInitializer: init(seed + 2) })
    .apply(h2) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name: 'nested' });
}

/** A tiny CNN 8x8x1: conv(4) -> bn -> relu -> pool -> conv(4) -> flatten -> dense(classes). Stages: 3. */
export function tinyCnn(classes = 3, seed = 9): tfl.Sequential {
  return tfl.sequential({
    name: 'cnn',
    layers: [
      tfl.layers.conv2d({
        inputShape: [8, 8, 1],
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        name: 'c1',
        kernelInitializer: init(seed),
      }),
      tfl.layers.batchNormalization({ name: 'bn1' }),
      tfl.layers.activation({ activation: 'relu', name: 'r1' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'p1' }),
      tfl.layers.conv2d({
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        name: 'c2',
        kernelInitializer: init(seed + 1),
      }),
      tfl.layers.flatten({ name: 'f' }),
      tfl.layers.dense({
        units: classes,
        activation: 'softmax',
        name: 'out',
        kernelInitializer: init(seed + 2),
      }),
    ],
  });
}

/** A seeded toy data set: `count` points in R^4, labels from a fixed linear rule (classes 0..classes-1). */
export function toyData(count: number, classes = 3, seed = 3): { x: tf.Tensor2D; labels: Int32Array } {
  return tf.tidy(() => {
    const x = tf.randomNormal([count, 4], 0, 1, 'float32', seed) as tf.Tensor2D;
    const w = tf.slice(
      tf.tensor2d([1, -1, 0.5, 0.2, -0.3, 1, 0.7, -1, 0.4, 0.1, -0.8, 1], [4, 3]),
      [0, 0],
      [4, classes],
    );
    const labels = Int32Array.from(tf.argMax(tf.matMul(x, w), -1).dataSync());
    return { x, labels } as never;
  });
}

/** All weight values of a layer, flattened in order. */
export async function weightValues(layer: tfl.layers.Layer): Promise<number[]> {
  const out: number[] = [];
  for (const w of layer.getWeights()) out.push(...(await w.data()));
  return out;
}

/** Gaussian blobs in R^4: `perClass` points around each of `classes` seeded centres; labels 0..classes-1. */
export function blobs(perClass: number, classes: number, seed = 7): { x: tf.Tensor2D; labels: Int32Array } {
  const labels = new Int32Array(perClass * classes);
  for (let i = 0; i < labels.length; i++) labels[i] = i % classes;
  const x = tf.tidy(() => {
    const centres = tf.randomNormal([classes, 4], 0, 2.5, 'float32', seed);
    const noise = tf.randomNormal([labels.length, 4], 0, 1, 'float32', seed + 1);
    return tf.add(tf.gather(centres, tf.tensor1d(labels, 'int32')), noise) as tf.Tensor2D;
  });
  return { x, labels };
}
